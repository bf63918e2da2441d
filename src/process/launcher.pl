#!/usr/bin/perl
# xferbench's launcher: forks and execs transfer commands on request, so that no fork blocks the
# harness's event loop. Node's spawn() forks a process of the harness's size and then waits,
# synchronously, until the child has exec'd: on two cores busy with ssh handshakes that wait was
# p50 70 ms, and a cell configured for 100 transfers reached 37 in flight. This process is a few
# MB, forks in well under a millisecond and never waits for an exec: it learns of a failed exec
# afterwards, from a line the child leaves at the end of its stderr, as it learns of every exit
# (docs/launcher.md).
#
# Requests on stdin, one frame each: a 4-byte big-endian length, then NUL-separated fields
#   run  ID TIMEOUT_MS KILL_AFTER_MS INPUT FILE ARG...   (TIMEOUT_MS 0: none; INPUT '': /dev/null)
#   kill ID KILL_AFTER_MS                                 (cancel: SIGTERM, SIGKILL after the delay)
# One answer per run on stdout, when the child has been reaped:
#   done ID START END KIND VALUE TIMED_OUT CANCELED ERRLEN\n then ERRLEN bytes of stderr
# START/END: CLOCK_MONOTONIC seconds (Node's process.hrtime clock); KIND exit|signal|error
# (error: the exec or fork failed, VALUE is errno's text).
# End of stdin (the harness exited, however it died): every child gets SIGTERM, then SIGKILL.
use strict;
use warnings;
# Not POSIX: loading it made this process a third larger, and a fork copies its page tables and
# every page it writes before the child has exec'd (0.26 -> 0.22 ms a fork-exec-reap).
use Config;
use Errno qw(EINTR EAGAIN);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

$0 = 'xferbench-launcher';
# On a machine saturated by the transfers themselves (hundreds of handshakes runnable on a few
# cores) a launcher at the default priority spends most of a ramp in the run queue: 0.8 s of work
# for 900 launches took 59 s. Its work is bounded by the requests (about a millisecond per launch),
# so the highest priority costs the transfers no CPU; it only makes launches, and the reaping that
# times their ends, happen when asked. Without CAP_SYS_NICE it stays as it is (the cell records
# the launcher's nice value). Children get the priority this process started with.
my $base_nice = getpriority(0, 0);
my $raised = setpriority(0, 0, -20);
# Linux with autogroup (sched_autogroup_enabled, Debian's default) shares the CPU first between
# sessions, then between the tasks of one: sshd puts every connection in a session of its own,
# while the harness, this launcher and every client it started shared one. With 900 transfers
# the whole client side got one 901st of two cores against the servers' 900, where a site's
# clients have machines of their own. The harness starts this process in a session of its own
# (spawn's detached), given the highest autogroup priority it may take; every command gets a
# session, and so a share, of its own (setsid by number: POSIX is not loaded, see above).
if (open(my $group, '>', '/proc/self/autogroup')) { print {$group} "-20"; close $group }
my %SYS_SETSID = (x86_64 => 112, aarch64 => 157, i386 => 66, i686 => 66, arm => 66);
my $SETSID = $SYS_SETSID{ (split /-/, $Config{archname})[0] };
# A signal meant for the harness (it may reach this process too) is the harness's to act on: it
# decides what to stop, and in what order.
$SIG{INT} = 'IGNORE';
$SIG{HUP} = 'IGNORE';
$SIG{PIPE} = 'IGNORE';
# An exit wakes select() through a self-pipe: Perl runs signal handlers between operations, so
# a SIGCHLD that lands just before select() would otherwise wait for the next timeout.
pipe(my $wake_r, my $wake_w) or die "pipe: $!";
$SIG{CHLD} = sub { syswrite($wake_w, 'c') };

my $STDERR_KEEP = 65536;    # the classifier reads the tail; a chatty tool cannot grow us
my $IDLE_MAX = 1;           # a backstop only: exits and requests wake select() themselves
my %child;                  # pid => state
my %by_id;                  # id => pid
my %err_fd;                 # fileno => pid
my $rin = '';               # select()'s read set, kept as descriptors come and go
my $next_timer;             # earliest deadline or kill time of any child, if any
my $inbuf = '';
my $outbuf = '';            # answers of one turn of the loop, written together
# What a child that could not exec writes last before it exits 127: a NUL starts it, which no
# program's text does, so a command's own stderr cannot pass for it.
my $EXEC_FAILED = "\0xferbench-exec-failed ";
# Opened once: a child makes it its stdin and stdout with dup2 alone before exec.
open(my $devnull, '+<', '/dev/null') or die "/dev/null: $!";
my $stdin_open = 1;

sub now { clock_gettime(CLOCK_MONOTONIC) }

sub nonblocking {
    my ($fh) = @_;
    my $flags = fcntl($fh, F_GETFL, 0) or die "fcntl: $!";
    fcntl($fh, F_SETFL, $flags | O_NONBLOCK) or die "fcntl: $!";
}

sub answer {
    my ($id, $start, $end, $kind, $value, $timed_out, $canceled, $stderr) = @_;
    $outbuf .= sprintf("done %s %.6f %.6f %s %s %d %d %d\n", $id, $start, $end, $kind, $value, $timed_out, $canceled, length($stderr)) . $stderr;
}

# The turn's answers in one write. When the harness is gone: exit, or while shutting down
# (its children still to be killed) drop them.
sub flush_answers {
    my ($shutting_down) = @_;
    while (length $outbuf) {
        my $n = syswrite(STDOUT, $outbuf);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN;
            exit 1 if !$shutting_down;
            $outbuf = '';
            return;
        }
        substr($outbuf, 0, $n) = '';
    }
}

sub read_stderr {
    my ($c) = @_;
    return unless $c->{err};
    while (1) {
        my $n = sysread($c->{err}, my $buf, 65536);
        if (!defined $n) {
            next if $! == EINTR;
            last;    # EAGAIN: nothing more for now
        }
        if ($n == 0) { close_stderr($c); last }
        $c->{stderr} .= $buf;
        substr($c->{stderr}, 0, length($c->{stderr}) - $STDERR_KEEP) = '' if length($c->{stderr}) > $STDERR_KEEP;
    }
}

sub close_stderr {
    my ($c) = @_;
    vec($rin, fileno $c->{err}, 1) = 0;
    delete $err_fd{ fileno $c->{err} };
    close $c->{err};
    delete $c->{err};
}

sub launch {
    my ($id, $timeout_ms, $kill_after_ms, $input, $file, @args) = @_;
    my $start = now();
    pipe(my $err_r, my $err_w) or return answer($id, $start, now(), 'error', "pipe: $!", 0, 0, '');
    my ($in_r, $in_w);
    if (length $input) { pipe($in_r, $in_w) or return answer($id, $start, now(), 'error', "pipe: $!", 0, 0, '') }
    my $pid = fork();
    if (!defined $pid) {
        return answer($id, $start, now(), 'error', "fork: $!", 0, 0, '');
    }
    if ($pid == 0) {
        # The child: plain signal dispositions (ignored ones would survive exec), the three
        # standard descriptors, then exec. Every other descriptor Perl opened is close-on-exec.
        $SIG{$_} = 'DEFAULT' for qw(INT HUP PIPE CHLD TERM);
        setpriority(0, 0, $base_nice) if $raised;
        syscall($SETSID) if defined $SETSID;
        open(STDIN, '<&', $in_r // $devnull);
        open(STDOUT, '>&', $devnull);
        open(STDERR, '>&', $err_w);
        { no warnings 'exec'; exec { $file } $file, @args; }
        syswrite(STDERR, "$EXEC_FAILED$!");
        exit 127;    # nothing is buffered for STDOUT (answers go out by syswrite) and no END block exists
    }
    close $err_w;
    if ($in_r) {
        close $in_r;
        # Inputs are a few lines (sftp batch commands), below a pipe's capacity: never blocks.
        syswrite($in_w, $input);
        close $in_w;
    }
    nonblocking($err_r);
    $child{$pid} = {
        id => $id, start => $start, err => $err_r, stderr => '',
        deadline => $timeout_ms > 0 ? $start + $timeout_ms / 1000 : undef,
        kill_after => $kill_after_ms / 1000, timed_out => 0, canceled => 0,
    };
    $by_id{$id} = $pid;
    $err_fd{ fileno $err_r } = $pid;
    vec($rin, fileno $err_r, 1) = 1;
    schedule($child{$pid}{deadline});
}

sub schedule {
    my ($at) = @_;
    $next_timer = $at if defined $at && (!defined $next_timer || $at < $next_timer);
}

sub terminate {
    my ($pid, $kill_after) = @_;
    my $c = $child{$pid};
    kill 'TERM', $pid;
    my $at = now() + $kill_after;
    $c->{kill_at} = $at if !defined $c->{kill_at} || $c->{kill_at} > $at;
    schedule($c->{kill_at});
}

sub reap {
    while ((my $pid = waitpid(-1, 1)) > 0) {    # 1: WNOHANG
        my $status = $?;
        my $c = delete $child{$pid} or next;
        my $end = now();
        delete $by_id{ $c->{id} };
        # What the child (and anything it started) wrote before it exited is in the pipe now.
        # A ProxyJump or ControlPersist descendant may hold the pipe open for much longer: read
        # what is there and close, never wait for end of file.
        read_stderr($c);
        close_stderr($c) if $c->{err};
        my ($kind, $value);
        # The wait status: low 7 bits the signal (0: exited), then the exit code.
        my ($signal, $code) = ($status & 127, $status >> 8);
        my $at = !$signal && $code == 127 ? rindex($c->{stderr}, $EXEC_FAILED) : -1;
        if ($at >= 0) {
            ($kind, $value) = ('error', substr($c->{stderr}, $at + length $EXEC_FAILED));
            substr($c->{stderr}, $at) = '';
        }
        elsif ($signal) { ($kind, $value) = ('signal', $signal) }
        else { ($kind, $value) = ('exit', $code) }
        $value =~ s/\s/_/g;
        answer($c->{id}, $c->{start}, $end, $kind, $value, $c->{timed_out}, $c->{canceled}, $c->{stderr});
    }
}

# Walks the children only when a deadline has come: with hundreds running, a walk on every
# wake-up was most of this process's CPU.
sub timers {
    my $t = now();
    return if !defined $next_timer || $t < $next_timer;
    my $next;
    for my $pid (keys %child) {
        my $c = $child{$pid};
        if (defined $c->{deadline} && $t >= $c->{deadline}) {
            $c->{timed_out} = 1;
            delete $c->{deadline};
            terminate($pid, $c->{kill_after});
        }
        if (defined $c->{kill_at} && $t >= $c->{kill_at}) {
            kill 'KILL', $pid;
            delete $c->{kill_at};
        }
        for my $at (grep { defined } $c->{deadline}, $c->{kill_at}) {
            $next = $at if !defined $next || $at < $next;
        }
    }
    $next_timer = $next;
}

sub handle_frames {
    while (length($inbuf) >= 4) {
        my $len = unpack('N', $inbuf);
        last if length($inbuf) < 4 + $len;
        my $body = substr($inbuf, 4, $len);
        substr($inbuf, 0, 4 + $len) = '';
        my ($op, @f) = split(/\0/, $body, -1);
        if ($op eq 'run') { launch(@f) }
        elsif ($op eq 'kill') {
            my $pid = $by_id{ $f[0] };
            if (defined $pid) {
                $child{$pid}{canceled} = 1;
                terminate($pid, $f[1] / 1000);
            }
        }
    }
}

sub shutdown_children {
    terminate($_, 2) for keys %child;
    my $give_up = now() + 3;
    while (%child && now() < $give_up) {
        reap();
        flush_answers(1);
        timers();
        select(undef, undef, undef, 0.02);
    }
    kill 'KILL', $_ for keys %child;
    exit 0;
}

nonblocking(\*STDIN);
# Requests wait in the pipe, not in the harness: 900 rsync requests are ~400 KB, a pipe holds
# 64 KiB, and the rest went out only as the harness's thread got a CPU again; on a saturated
# machine it waited as long as the launcher. F_SETPIPE_SZ (1031, Linux) to 1 MiB, the
# unprivileged maximum by default; where it is refused the pipe stays as it is.
fcntl(STDIN, 1031, 1 << 20);
nonblocking($wake_r);
nonblocking($wake_w);    # a burst of exits must never block the handler
vec($rin, 0, 1) = 1;
vec($rin, fileno $wake_r, 1) = 1;
while (1) {
    reap();
    timers();
    shutdown_children() if !$stdin_open;
    flush_answers();
    my $wait = $IDLE_MAX;
    $wait = $next_timer - now() if defined $next_timer && $next_timer - now() < $wait;
    $wait = 0 if $wait < 0;
    my $n = select(my $rout = $rin, undef, undef, $wait);
    next if $n <= 0;    # timeout, or EINTR from SIGCHLD
    1 while sysread($wake_r, my $drain, 4096);
    if (vec($rout, 0, 1)) {
        while (1) {
            my $r = sysread(STDIN, my $buf, 65536);
            if (!defined $r) { last if $! == EAGAIN; next if $! == EINTR; $stdin_open = 0; last }
            if ($r == 0) { $stdin_open = 0; last }
            $inbuf .= $buf;
        }
        handle_frames();
    }
    # The set bits of $rout, found by a scan in C rather than a test per running child.
    my $bits = unpack('b*', $rout);
    while ($bits =~ /1/g) {
        my $pid = $err_fd{ pos($bits) - 1 };
        read_stderr($child{$pid}) if defined $pid && $child{$pid};
    }
}
