#!/usr/bin/perl
# Junction's pre-forked spawner (see spawner.ts): a small process that starts programs on behalf of
# the server, so that each program costs a fork of this ~5 MB process instead of the server's.
# It only starts, feeds, reads and reaps children; every policy (timeouts, caps, kills) stays in
# ProcessRunner, which signals a child's process group by the pid reported here.
#
# Frames on stdin (from the server):
#   R <id> <maxOutputBytes> <stdinLen or -1> <len>\n <len bytes: argc\0argv...\0envc\0env...\0cwd> <stdin bytes>
#     envc -1 = inherit this process's environment; cwd '' = this process's.
# Frames on stdout (to the server):
#   S <id> <pid>\n                         started
#   F <id> <len>\n <message>               could not start (nothing is running)
#   E <id> <len>\n <bytes>                 a chunk of the child's stderr
#   X <id> <code> <signal> <truncated> <len>\n <stdout>   done: exit code (-1 when signalled), signal number
# On EOF of stdin, SIGTERM or SIGINT: every child's process group gets SIGKILL, then this exits.
use strict;
use warnings;
use POSIX ();
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use Errno qw(EAGAIN EINTR);
use Time::HiRes ();

$| = 1;
binmode STDIN;
binmode STDOUT;
$SIG{PIPE} = 'IGNORE';
$SIG{CHLD} = sub { };    # interrupts select(): children are reaped promptly
my $stop = 0;
$SIG{TERM} = $SIG{INT} = sub { $stop = 1 };

# After the child exits, how long its pipes may stay open (a background grandchild holding them).
my $DRAIN_SECONDS = 0.1;

my %kids;     # id => child state
my %byfd;     # fileno => [id, 'out' | 'err' | 'in']
my %bypid;    # pid => id
my $inbuf = '';
my $eof = 0;

sub nonblock { my $fh = shift; fcntl($fh, F_SETFL, fcntl($fh, F_GETFL, 0) | O_NONBLOCK); }

sub send_frame { my ($head, $body) = @_; my $d = $head . $body; my $off = 0;
  while ($off < length $d) { my $n = syswrite(STDOUT, $d, length($d) - $off, $off);
    if (!defined $n) { next if $! == EINTR || $! == EAGAIN; exit 1; } $off += $n; } }

sub errname { my $e = shift; local $! = $e; for my $k (keys %!) { return $k if $!{$k}; } return "errno $e"; }

sub start {
  my ($id, $max, $stdin, $payload) = @_;
  my @f = split /\0/, $payload, -1;
  my $argc = shift @f;
  my @argv = splice @f, 0, $argc;
  my $envc = shift @f;
  my @env = $envc >= 0 ? splice(@f, 0, $envc) : ();
  my $cwd = shift(@f) // '';
  my ($or, $ow, $er, $ew, $ir, $iw, $xr, $xw);
  pipe($or, $ow) && pipe($er, $ew) && pipe($xr, $xw) && (!defined $stdin || pipe($ir, $iw))
    or return send_frame("F $id " . length("pipe: $!") . "\n", "pipe: $!");
  my $pid = fork();
  if (!defined $pid) {
    my $m = "fork: $!";
    close $_ for grep { defined } ($or, $ow, $er, $ew, $xr, $xw, $ir, $iw);
    return send_frame("F $id " . length($m) . "\n", $m);
  }
  if ($pid == 0) {
    # The child: own session and process group, stdio on the pipes, the given environment.
    POSIX::setsid();
    if (defined $stdin) { POSIX::dup2(fileno($ir), 0); }
    else { open(STDIN, '<', '/dev/null'); }
    POSIX::dup2(fileno($ow), 1);
    POSIX::dup2(fileno($ew), 2);
    $SIG{$_} = 'DEFAULT' for qw(PIPE CHLD TERM INT);
    if ($envc >= 0) { %ENV = (); for (@env) { my $eq = index($_, '='); $ENV{substr($_, 0, $eq)} = substr($_, $eq + 1) if $eq > 0; } }
    if ($cwd ne '' && !chdir($cwd)) { syswrite($xw, (0 + $!) . ''); POSIX::_exit(127); }
    { no warnings 'exec'; exec { $argv[0] } @argv; }
    syswrite($xw, (0 + $!) . '');
    POSIX::_exit(127);
  }
  close $ow; close $ew; close $xw; close $ir if defined $ir;
  # Wait until the child has exec'd (the pipe closes on exec) or reports why it could not.
  my $err = '';
  while (1) { my $n = sysread($xr, my $b, 64); last if defined $n && $n == 0; if (!defined $n) { next if $! == EINTR; last; } $err .= $b; }
  close $xr;
  if ($err ne '') {
    waitpid($pid, 0);
    close $or; close $er; close $iw if defined $iw;
    my $m = "spawn $argv[0] " . errname($err);
    return send_frame("F $id " . length($m) . "\n", $m);
  }
  nonblock($or); nonblock($er);
  my $k = { id => $id, pid => $pid, out => $or, err => $er, stdout => '', max => $max, truncated => 0 };
  $byfd{fileno $or} = [$id, 'out'];
  $byfd{fileno $er} = [$id, 'err'];
  if (defined $iw) {
    nonblock($iw);
    $k->{in} = $iw; $k->{inbuf} = $stdin;
    $byfd{fileno $iw} = [$id, 'in'];
  }
  $kids{$id} = $k;
  $bypid{$pid} = $id;
  send_frame("S $id $pid\n", '');
}

sub close_fd { my ($k, $what) = @_; my $fh = delete $k->{$what}; return unless defined $fh; delete $byfd{fileno $fh}; close $fh; }

sub finish {
  my $k = shift;
  close_fd($k, $_) for qw(out err in);
  delete $kids{$k->{id}};
  my $st = $k->{status};
  my ($code, $sig) = (POSIX::WIFEXITED($st) ? POSIX::WEXITSTATUS($st) : -1, POSIX::WIFSIGNALED($st) ? POSIX::WTERMSIG($st) : 0);
  send_frame("X $k->{id} $code $sig $k->{truncated} " . length($k->{stdout}) . "\n", $k->{stdout});
}

sub parse_frames {
  while (1) {
    my $nl = index($inbuf, "\n");
    return if $nl < 0;
    my @h = split / /, substr($inbuf, 0, $nl);
    if ($h[0] eq 'R') {
      my ($id, $max, $slen, $len) = @h[1 .. 4];
      my $need = $nl + 1 + $len + ($slen >= 0 ? $slen : 0);
      return if length($inbuf) < $need;
      my $payload = substr($inbuf, $nl + 1, $len);
      my $stdin = $slen >= 0 ? substr($inbuf, $nl + 1 + $len, $slen) : undef;
      substr($inbuf, 0, $need, '');
      start($id, $max, $stdin, $payload);
    } else {
      substr($inbuf, 0, $nl + 1, '');    # unknown frame: skip the line
    }
  }
}

sub reap {
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $id = delete $bypid{$pid};
    next unless defined $id;
    my $k = $kids{$id} or next;
    $k->{status} = $?;
    $k->{deadline} = Time::HiRes::time() + $DRAIN_SECONDS;
  }
}

sub shutdown_all {
  for my $k (values %kids) { kill 'KILL', -$k->{pid} if !defined $k->{status}; }
  my $deadline = Time::HiRes::time() + 2;
  while (%bypid && Time::HiRes::time() < $deadline) { reap(); Time::HiRes::sleep(0.01) if %bypid; }
  exit 0;
}

nonblock(\*STDIN);
while (1) {
  shutdown_all() if $stop || $eof;
  my ($rin, $win) = ('', '');
  vec($rin, 0, 1) = 1;
  my $timeout;
  for my $k (values %kids) {
    vec($rin, fileno($k->{out}), 1) = 1 if $k->{out};
    vec($rin, fileno($k->{err}), 1) = 1 if $k->{err};
    vec($win, fileno($k->{in}), 1) = 1 if $k->{in};
    # A SIGCHLD between reap() and select() would be missed: poll while children run.
    $timeout = 0.05;
  }
  my $n = select(my $rout = $rin, my $wout = $win, undef, $timeout);
  if ($n > 0) {
    if (vec($rout, 0, 1)) {
      my $r = sysread(STDIN, $inbuf, 1 << 16, length $inbuf);
      if (defined $r && $r == 0) { $eof = 1; next; }
      parse_frames();
    }
    for my $fd (keys %byfd) {
      my $e = $byfd{$fd} or next;
      my ($id, $what) = @$e;
      my $k = $kids{$id} or next;
      if ($what eq 'in') {
        next unless vec($wout, $fd, 1);
        my $w = syswrite($k->{in}, $k->{inbuf});
        if (defined $w) { substr($k->{inbuf}, 0, $w, ''); close_fd($k, 'in') if $k->{inbuf} eq ''; }
        elsif ($! != EAGAIN && $! != EINTR) { close_fd($k, 'in'); }    # EPIPE: the program does not read stdin
        next;
      }
      next unless vec($rout, $fd, 1);
      my $r = sysread($k->{$what}, my $buf, 1 << 16);
      if (!defined $r) { next if $! == EAGAIN || $! == EINTR; close_fd($k, $what); next; }
      if ($r == 0) { close_fd($k, $what); next; }
      if ($what eq 'err') { send_frame("E $id $r\n", $buf); next; }
      my $room = $k->{max} - length $k->{stdout};
      if ($room <= 0) { $k->{truncated} = 1; next; }
      if ($r > $room) { $k->{truncated} = 1; $buf = substr($buf, 0, $room); }
      $k->{stdout} .= $buf;
    }
  }
  reap();
  my $now = Time::HiRes::time();
  for my $k (values %kids) {
    next unless defined $k->{status};
    finish($k) if (!$k->{out} && !$k->{err}) || $now >= $k->{deadline};
  }
}
