let tail: Promise<void> = Promise.resolve();

/**
 * Resolves when it is the caller's turn to spawn: at most one spawn per event-loop turn.
 * spawn() forks synchronously (milliseconds for a large process); hundreds started in one turn
 * would hold the loop for a second, and timers, sshd log reading and progress would stall.
 */
export function launchTurn(): Promise<void> {
  const turn = tail.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  tail = turn;
  return turn;
}
