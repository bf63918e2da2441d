import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { ownAddress } from '../../src/hosts/container/own-address.js';

const iface = (address: string): NetworkInterfaceInfo => ({ address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/24` });

describe('where a link relay listens for a container network', () => {
  it('takes the engine\'s gateway only when it is one of this machine\'s own, specific addresses', () => {
    const here = { lo: [iface('127.0.0.1')], podman1: [iface('10.89.0.1')] };
    assert.equal(ownAddress('10.89.0.1', here), '10.89.0.1');
    // Not this machine's (a remote engine's network), unspecified (every network), or not an address.
    for (const bad of ['10.89.1.1', '0.0.0.0', '::', 'podman1', '', undefined]) assert.equal(ownAddress(bad, here), undefined, String(bad));
  });
});
