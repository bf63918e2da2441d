#!/usr/bin/perl
# xferbench's ssh connector, run by ssh as its ProxyCommand with ProxyUseFdpass: it opens the TCP
# connection ssh would open, says on stderr which local port it came from, hands the connected
# socket to ssh and exits. ssh then talks to sshd on that socket exactly as on its own. sshd's
# MaxStartups drop line names the client's address and port; this line is how a drop is matched
# to the transfer that saw it (docs/drop-agreement.md).
#
#   connect-fd.pl HOST PORT TIMEOUT_S ATTEMPTS
# TIMEOUT_S, ATTEMPTS: ssh's ConnectTimeout (0: the system's) and ConnectionAttempts, which ssh
# itself does not apply to a ProxyCommand. Errors are worded as ssh words them.
#
# It runs once per ssh connection, so it starts lean: an IPv4 address (every host xferbench
# starts has one) is packed by hand with Linux's constants, as loading the Socket module would
# add ~8 ms to its ~13 ms start here (warnings.pm ~4 ms more: not loaded). A name or an IPv6
# address loads Socket.
use strict;
use Socket::MsgHdr qw(sendmsg);

my ($host, $port, $timeout, $attempts) = @ARGV;
die "usage: connect-fd.pl HOST PORT TIMEOUT_S ATTEMPTS\n"
  unless defined $attempts && $port =~ /^\d{1,5}$/ && $timeout =~ /^\d+$/ && $attempts =~ /^[1-9]\d*$/;
my ($AF_INET, $SOCK_STREAM, $SOL_SOCKET, $SCM_RIGHTS) = (2, 1, 1, 1);

# [family, sockaddr] of every address to try, in order.
my @addresses;
if ($^O eq 'linux' && $host =~ /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/ && !grep { $_ > 255 } ($1, $2, $3, $4)) {
    @addresses = ([$AF_INET, pack('S n C4 x8', $AF_INET, $port, $1, $2, $3, $4)]);
} else {
    require Socket;
    my ($err, @ai) = Socket::getaddrinfo($host, $port, { socktype => Socket::SOCK_STREAM() });
    die "ssh: Could not resolve hostname $host: $err\n" if $err;
    ($AF_INET, $SOCK_STREAM, $SOL_SOCKET, $SCM_RIGHTS) = (Socket::AF_INET(), Socket::SOCK_STREAM(), Socket::SOL_SOCKET(), Socket::SCM_RIGHTS());
    @addresses = map { [$_->{family}, $_->{addr}] } @ai;
}

sub endpoint {
    my ($sockaddr) = @_;
    my ($family, $p, @octets) = unpack('S n C4', $sockaddr);
    return sprintf('[%s]:%d', join('.', @octets), $p) if $family == $AF_INET && $^O eq 'linux';
    require Socket;
    my ($port6, $address) = Socket::sockaddr_family($sockaddr) == Socket::AF_INET6() ? Socket::unpack_sockaddr_in6($sockaddr) : Socket::unpack_sockaddr_in($sockaddr);
    return sprintf('[%s]:%d', Socket::inet_ntop(Socket::sockaddr_family($sockaddr), $address), $port6);
}

my $sock;
ATTEMPT: for my $attempt (1 .. $attempts) {
    sleep 1 if $attempt > 1;    # ssh waits a second between attempts too
    for my $address (@addresses) {
        socket($sock, $address->[0], $SOCK_STREAM, 0) or die "ssh: socket: $!\n";
        my $connected = eval {
            local $SIG{ALRM} = sub { die "timeout\n" };
            alarm $timeout;
            my $ok = connect($sock, $address->[1]);
            alarm 0;
            $ok;
        };
        last ATTEMPT if $connected;
        my $why = defined $@ && $@ eq "timeout\n" ? 'Connection timed out' : "$!";
        print STDERR "ssh: connect to host $host port $port: $why\n";
        close $sock;
        undef $sock;
    }
}
exit 255 unless $sock;
print STDERR 'xferbench: connected from ', endpoint(getsockname($sock)), ' to ', endpoint(getpeername($sock)), "\n";
my $msg = Socket::MsgHdr->new(buf => "\0");
$msg->cmsghdr($SOL_SOCKET, $SCM_RIGHTS, pack('i', fileno($sock)));
open(my $to_ssh, '>&=', 1) or die "ssh: proxy: stdout: $!\n";
sendmsg($to_ssh, $msg) or die "ssh: proxy: sendmsg: $!\n";
