//! One pipelined connection to one memcached server, and the part of memcached's text protocol
//! the store speaks over it.
//!
//! Memcached answers the commands of one connection in the order it received them, so any
//! number of calls can share a connection: a call sends its command and waits for the reply in
//! its turn. One task per connection owns the socket. Callers hand it a [`Job`] (the command's
//! bytes, what reply to expect, and a oneshot channel for the answer) over an unbounded
//! channel; the task writes every job it has in one `write` and queues the jobs in sending
//! order; each reply it reads goes to the oldest queued job. Replies are matched by position,
//! never by content, so nothing a caller does can shift them:
//!
//! - A caller whose future is dropped (the [`Timed`](crate::Timed) limit, or the request going
//!   away) only drops its end of the oneshot channel. Its command was sent or will be, its reply
//!   is still read in its turn and then discarded, and the next reply goes to the next caller.
//! - A reply that does not parse as the reply to the command at the head of the queue, bytes
//!   that arrive with nothing queued, a read or write error, or the server closing the
//!   connection end the connection: every queued caller gets [`Failure::Broken`], later calls
//!   find the connection closed and the store opens a new one.
//! - A server that stops answering altogether (a hung process, a network that drops packets) is
//!   given up after [`STALL_LIMIT`] without a single reply while replies are owed, so the
//!   connection does not stay stuck for the kernel's TCP timeouts: the store opens a new
//!   connection on the next call, at most once per `STALL_LIMIT` while the server stays silent.
//! - At most [`MAX_IN_FLIGHT`] calls are queued or unanswered on a connection; later calls wait
//!   for a turn (within their time limit), so a hung server holds bounded memory.
//!
//! The commands: `get <key>*` (a multi-key get; memcached sends the hits in the order asked
//! and ends with `END`), meta set `ms <key> <datalen> T<exptime> M<mode>` with mode `S` (set),
//! `E` (add: only when absent) or `R` (replace: only when present), answered `HD` (stored) or
//! `NS` (not stored), and meta delete `md <key>`, answered `HD` or `NF`. A value memcached will
//! not keep (over its item size limit) is answered `SERVER_ERROR …` after memcached has read
//! and discarded the value's bytes, so the stream stays in step.

use core::time::Duration;
use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::Arc;

use bytes::{Buf as _, BytesMut};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::Instant;

use crate::store::Condition;

/// Calls queued or awaiting their reply on one connection, at most.
pub(super) const MAX_IN_FLIGHT: usize = 1024;
/// How long a connection that owes replies may go without reading one before it is given up.
/// Memcached answers in microseconds; this is many times the layer's default store timeout
/// (500 ms), so a call's own limit always fires first.
pub(super) const STALL_LIMIT: Duration = Duration::from_secs(2);
/// The most bytes of queued commands gathered for one `write`.
const MAX_BATCH: usize = 64 * 1024;
/// The room made in the input buffer before each read.
const READ_CHUNK: usize = 16 * 1024;
/// The longest reply line read (`VALUE <key> <flags> <bytes>`, a server error): anything longer
/// is not memcached answering our commands.
const MAX_LINE: usize = 1024;
/// The largest value length believed: memcached's own ceiling for its item size (`-I`) is 1 GiB.
const MAX_VALUE: usize = 1 << 30;

/// What a command's reply must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expect {
    /// The reply to `get` of these keys (wire keys, in the order sent).
    Get(Vec<String>),
    /// The reply to `ms`.
    Store,
    /// The reply to `md`.
    Delete,
}

/// A reply that was read whole.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Reply {
    /// The value under each key asked for, in the order asked; `None` for a miss.
    Values(Vec<Option<Vec<u8>>>),
    /// Whether a write was made (`false`: its condition did not hold, `NS`).
    Written(bool),
    /// A `md` went through (the key is gone, or was not there).
    Deleted,
}

/// Why a call got no reply.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// The connection ended before the reply came (see the module docs); the text says why.
    Broken(String),
    /// The server refused this command (`SERVER_ERROR …`, its text) and goes on serving.
    Refused(String),
    /// The connection had ended before the command was sent (the server closed it while it
    /// was idle, say): the command and what to expect, to send on another connection.
    NotSent(Vec<u8>, Expect),
}

/// A command on its way to the connection's task.
struct Job {
    bytes: Vec<u8>,
    expect: Expect,
    reply: oneshot::Sender<Result<Reply, Failure>>,
    /// The call's turn among [`MAX_IN_FLIGHT`], given back when its reply is read.
    permit: OwnedSemaphorePermit,
}

/// A sent (or about to be sent) command whose reply is owed.
struct Waiting {
    expect: Expect,
    reply: oneshot::Sender<Result<Reply, Failure>>,
    _permit: OwnedSemaphorePermit,
}

/// The callers' side of one connection. Dropping the last handle lets the task finish the
/// replies it owes, then close the socket.
#[derive(Debug)]
pub(super) struct Connection {
    jobs: mpsc::UnboundedSender<Job>,
    turns: Arc<Semaphore>,
}

impl Connection {
    /// Starts the task that owns `stream`, on the current Tokio runtime.
    pub(super) fn start(stream: TcpStream) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(stream, queue));
        Connection {
            jobs,
            turns: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    /// Whether the connection has ended: calls on it fail, a new one is needed.
    pub(super) fn is_closed(&self) -> bool {
        self.jobs.is_closed()
    }

    /// Whether no call is in flight on the connection (a moment ago).
    pub(super) fn is_idle(&self) -> bool {
        self.turns.available_permits() == MAX_IN_FLIGHT
    }

    /// Sends `bytes` (one command) and waits for its reply, which must be what `expect` says.
    ///
    /// Dropping the returned future at any point leaves the connection in step.
    pub(super) async fn call(&self, bytes: Vec<u8>, expect: Expect) -> Result<Reply, Failure> {
        let Ok(permit) = Arc::clone(&self.turns).acquire_owned().await else {
            return Err(Failure::NotSent(bytes, expect));
        };
        let (reply, answer) = oneshot::channel();
        let job = Job {
            bytes,
            expect,
            reply,
            permit,
        };
        if let Err(unsent) = self.jobs.send(job) {
            return Err(Failure::NotSent(unsent.0.bytes, unsent.0.expect));
        }
        answer.await.unwrap_or_else(|_| {
            // The task ended without answering: it answers every job it takes, so only a
            // runtime shutting down gets here.
            Err(Failure::Broken("the connection was closed".to_owned()))
        })
    }
}

/// The connection's task: writes the jobs in the order they come, hands each reply to the
/// oldest waiting job, and ends the connection on the first thing it cannot account for.
async fn run(mut stream: TcpStream, mut queue: mpsc::UnboundedReceiver<Job>) {
    let (mut reader, mut writer) = stream.split();
    let mut waiting: VecDeque<Waiting> = VecDeque::new();
    // Commands accepted and not yet written whole; `sent` of its bytes are written.
    let mut out: Vec<u8> = Vec::new();
    let mut sent = 0;
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut open = true;
    // The stall timer is re-armed only when it fires, from the time of the last reply read
    // (or of the first command owed after an idle spell), so it costs nothing per call.
    let mut last_progress = Instant::now();
    let stall = tokio::time::sleep(STALL_LIMIT);
    tokio::pin!(stall);

    let failure = loop {
        if !open && waiting.is_empty() {
            // Every handle is gone and every reply read.
            return;
        }
        if input.is_empty() && input.capacity() > 4 * READ_CHUNK {
            // A large value came in: its room is not kept for small ones.
            input = BytesMut::with_capacity(READ_CHUNK);
        } else if input.capacity() - input.len() < READ_CHUNK / 2 {
            input.reserve(READ_CHUNK);
        }
        tokio::select! {
            biased;
            read = reader.read_buf(&mut input) => match read {
                Ok(0) => break "the server closed the connection".to_owned(),
                Ok(_) => {
                    if let Err(why) = deliver(&mut input, &mut waiting) {
                        break why;
                    }
                    last_progress = Instant::now();
                }
                Err(error) => break format!("read failed: {error}"),
            },
            wrote = writer.write(&out[sent..]), if sent < out.len() => match wrote {
                Ok(0) => break "the connection stopped taking bytes".to_owned(),
                Ok(n) => {
                    sent += n;
                    if sent == out.len() {
                        sent = 0;
                        if out.capacity() > 4 * MAX_BATCH {
                            // A large value went out: its buffer is not kept for small ones.
                            out = Vec::new();
                        } else {
                            out.clear();
                        }
                    }
                }
                Err(error) => break format!("write failed: {error}"),
            },
            job = queue.recv(), if open && out.len() - sent < MAX_BATCH => match job {
                Some(job) => {
                    if waiting.is_empty() {
                        last_progress = Instant::now();
                    }
                    accept(job, &mut out, &mut sent, &mut waiting);
                    while out.len() - sent < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => accept(job, &mut out, &mut sent, &mut waiting),
                            Err(_) => break,
                        }
                    }
                }
                None => open = false,
            },
            () = &mut stall => {
                let due = last_progress + STALL_LIMIT;
                if !waiting.is_empty() && Instant::now() >= due {
                    break format!("no reply for {STALL_LIMIT:?}");
                }
                let next = if waiting.is_empty() { Instant::now() + STALL_LIMIT } else { due };
                stall.as_mut().reset(next);
            }
        }
    };

    // Broken: no call waits on this connection again. The jobs still in the channel were
    // never sent, and go back to their callers to be sent on another connection.
    queue.close();
    for owed in waiting.drain(..) {
        let _ = owed.reply.send(Err(Failure::Broken(failure.clone())));
    }
    while let Ok(job) = queue.try_recv() {
        let _ = job.reply.send(Err(Failure::NotSent(job.bytes, job.expect)));
    }
}

/// Queues `job`'s bytes for writing and its caller for the reply.
fn accept(job: Job, out: &mut Vec<u8>, sent: &mut usize, waiting: &mut VecDeque<Waiting>) {
    if *sent == out.len() {
        // Nothing else to write: the job's own buffer becomes the output, with no copy.
        *out = job.bytes;
        *sent = 0;
    } else {
        out.extend_from_slice(&job.bytes);
    }
    waiting.push_back(Waiting {
        expect: job.expect,
        reply: job.reply,
        _permit: job.permit,
    });
}

/// Hands every whole reply in `input` to its caller, oldest first, and removes it from `input`.
/// Fails (the connection must end) on a reply that is not one to the oldest command, or on
/// bytes that nobody's command asked for.
fn deliver(input: &mut BytesMut, waiting: &mut VecDeque<Waiting>) -> Result<(), String> {
    while let Some(head) = waiting.front() {
        match parse(&head.expect, input)? {
            None => return Ok(()),
            Some((used, result)) => {
                input.advance(used);
                if let Some(owed) = waiting.pop_front() {
                    // A caller that stopped waiting has dropped its receiver: the reply is
                    // read and discarded all the same.
                    let _ = owed.reply.send(result);
                }
            }
        }
    }
    if input.is_empty() {
        Ok(())
    } else {
        Err("the server sent bytes no command asked for".to_owned())
    }
}

/// A reply read whole: its length in bytes, and what it says.
type Parsed = (usize, Result<Reply, Failure>);

/// The reply at the start of `input` to a command expecting `expect`: `None` while it is not
/// all there. An error when it is not a reply to that command.
fn parse(expect: &Expect, input: &[u8]) -> Result<Option<Parsed>, String> {
    let Some((line, mut pos)) = line(input, 0)? else {
        return Ok(None);
    };
    if let Some(message) = line.strip_prefix(b"SERVER_ERROR ") {
        let message = String::from_utf8_lossy(message).into_owned();
        return Ok(Some((pos, Err(Failure::Refused(message)))));
    }
    match expect {
        Expect::Store => match line {
            b"HD" => Ok(Some((pos, Ok(Reply::Written(true))))),
            b"NS" => Ok(Some((pos, Ok(Reply::Written(false))))),
            _ => Err(unexpected("ms", line)),
        },
        Expect::Delete => match line {
            b"HD" | b"NF" => Ok(Some((pos, Ok(Reply::Deleted)))),
            _ => Err(unexpected("md", line)),
        },
        Expect::Get(keys) => {
            let mut values = vec![None; keys.len()];
            // Hits come in the order asked: each is looked for after the previous one.
            let mut next = 0;
            let mut line = line;
            loop {
                if line == b"END" {
                    return Ok(Some((pos, Ok(Reply::Values(values)))));
                }
                let (key, len) = value_header(line).ok_or_else(|| unexpected("get", line))?;
                let end = pos + len;
                if input.len() < end + 2 {
                    return Ok(None);
                }
                if &input[end..end + 2] != b"\r\n" {
                    return Err("a value longer than its header said".to_owned());
                }
                let index = keys[next..]
                    .iter()
                    .position(|asked| asked.as_bytes() == key)
                    .ok_or_else(|| "a value for a key not asked for".to_owned())?;
                values[next + index] = Some(input[pos..end].to_vec());
                next += index + 1;
                match self::line(input, end + 2)? {
                    Some((found, after)) => (line, pos) = (found, after),
                    None => return Ok(None),
                }
            }
        }
    }
}

/// The line starting at `from`, without its `\r\n`, and where the next one starts.
fn line(input: &[u8], from: usize) -> Result<Option<(&[u8], usize)>, String> {
    let rest = &input[from..];
    match rest.windows(2).position(|pair| pair == b"\r\n") {
        Some(len) if len <= MAX_LINE => Ok(Some((&rest[..len], from + len + 2))),
        Some(_) => Err("a reply line too long".to_owned()),
        None if rest.len() > MAX_LINE => Err("a reply line too long".to_owned()),
        None => Ok(None),
    }
}

/// The key and value length of `VALUE <key> <flags> <bytes> [<cas>]`.
fn value_header(line: &[u8]) -> Option<(&[u8], usize)> {
    let mut words = line.strip_prefix(b"VALUE ")?.split(|&byte| byte == b' ');
    let key = words.next()?;
    let _flags = words.next()?;
    let len: usize = core::str::from_utf8(words.next()?).ok()?.parse().ok()?;
    (len <= MAX_VALUE).then_some((key, len))
}

/// The message for a reply line that does not answer `command`; at most the line's first
/// bytes, which are memcached's words, never a value.
fn unexpected(command: &str, line: &[u8]) -> String {
    let shown = String::from_utf8_lossy(&line[..line.len().min(40)]).into_owned();
    format!("an answer to `{command}` out of step: {shown:?}")
}

/// `get` of `keys` (checked wire keys: printable, no spaces).
pub(super) fn get_command(keys: &[String]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(6 + keys.iter().map(|key| key.len() + 1).sum::<usize>());
    bytes.extend_from_slice(b"get");
    for key in keys {
        bytes.push(b' ');
        bytes.extend_from_slice(key.as_bytes());
    }
    bytes.extend_from_slice(b"\r\n");
    bytes
}

/// `ms` of `value` under `key` with `exptime`, in the mode `condition` asks for.
pub(super) fn set_command(key: &str, value: &[u8], exptime: i64, condition: Condition) -> Vec<u8> {
    let mode = match condition {
        Condition::Always => 'S',
        Condition::Absent => 'E',
        Condition::Present => 'R',
    };
    let mut bytes = Vec::with_capacity(key.len() + value.len() + 48);
    // Writing into a Vec cannot fail.
    let _ = write!(bytes, "ms {key} {} T{exptime} M{mode}\r\n", value.len());
    bytes.extend_from_slice(value);
    bytes.extend_from_slice(b"\r\n");
    bytes
}

/// `md` of `key`.
pub(super) fn delete_command(key: &str) -> Vec<u8> {
    format!("md {key}\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(keys: &[&str]) -> Expect {
        Expect::Get(keys.iter().map(|&key| key.to_owned()).collect())
    }

    fn parsed(expect: &Expect, input: &[u8]) -> Result<Option<Parsed>, String> {
        parse(expect, input)
    }

    #[test]
    fn commands_are_written_as_memcached_reads_them() {
        assert_eq!(
            get_command(&["a".into(), "b:c".into()]),
            b"get a b:c\r\n".to_vec()
        );
        assert_eq!(
            set_command("k", b"v\r\nx", 60, Condition::Present),
            b"ms k 4 T60 MR\r\nv\r\nx\r\n".to_vec()
        );
        assert!(set_command("k", b"", 1, Condition::Absent).starts_with(b"ms k 0 T1 ME\r\n"));
        assert!(set_command("k", b"", 1, Condition::Always).starts_with(b"ms k 0 T1 MS\r\n"));
        assert_eq!(delete_command("k"), b"md k\r\n".to_vec());
    }

    #[test]
    fn a_get_reply_is_read_whole_and_in_key_order() {
        let expect = keys(&["a", "b", "c"]);
        let reply = b"VALUE a 0 3\r\nx\r\n\r\nVALUE c 0 0\r\n\r\nEND\r\nHD\r\n";
        let whole = reply.len() - 4;
        assert_eq!(
            parsed(&expect, reply),
            Ok(Some((
                whole,
                Ok(Reply::Values(vec![
                    Some(b"x\r\n".to_vec()),
                    None,
                    Some(Vec::new())
                ]))
            )))
        );
        // Every prefix is incomplete, not an error: the rest is still on its way.
        for cut in 0..whole {
            assert_eq!(parsed(&expect, &reply[..cut]), Ok(None), "{cut}");
        }
        assert_eq!(
            parsed(&keys(&["a"]), b"END\r\n"),
            Ok(Some((5, Ok(Reply::Values(vec![None])))))
        );
    }

    #[test]
    fn a_key_asked_twice_is_answered_twice() {
        let reply = b"VALUE a 0 1\r\n1\r\nVALUE a 0 1\r\n1\r\nEND\r\n";
        let Ok(Some((_, Ok(Reply::Values(values))))) = parsed(&keys(&["a", "b", "a"]), reply)
        else {
            panic!("not a reply");
        };
        assert_eq!(values, vec![Some(b"1".to_vec()), None, Some(b"1".to_vec())]);
    }

    #[test]
    fn meta_replies_and_refusals() {
        assert_eq!(
            parsed(&Expect::Store, b"HD\r\n"),
            Ok(Some((4, Ok(Reply::Written(true)))))
        );
        assert_eq!(
            parsed(&Expect::Store, b"NS\r\n"),
            Ok(Some((4, Ok(Reply::Written(false)))))
        );
        for reply in [&b"HD\r\n"[..], b"NF\r\n"] {
            assert_eq!(
                parsed(&Expect::Delete, reply),
                Ok(Some((4, Ok(Reply::Deleted))))
            );
        }
        let refused = b"SERVER_ERROR object too large for cache\r\n";
        assert_eq!(
            parsed(&Expect::Store, refused),
            Ok(Some((
                refused.len(),
                Err(Failure::Refused("object too large for cache".into()))
            )))
        );
        assert_eq!(parsed(&Expect::Store, b"H"), Ok(None));
    }

    #[test]
    fn replies_out_of_step_end_the_connection() {
        for (expect, reply) in [
            (Expect::Store, &b"END\r\n"[..]),
            (Expect::Delete, b"NS\r\n"),
            (Expect::Store, b"ERROR\r\n"),
            (Expect::Store, b"CLIENT_ERROR bad data chunk\r\n"),
            (keys(&["a"]), b"HD\r\n"),
            (keys(&["a"]), b"VALUE b 0 1\r\nx\r\nEND\r\n"),
            (
                keys(&["a", "b"]),
                b"VALUE b 0 1\r\nx\r\nVALUE a 0 1\r\nx\r\nEND\r\n",
            ),
            (keys(&["a"]), b"VALUE a 0 1\r\nxy\r\nEND\r\n"),
            (keys(&["a"]), b"VALUE a 0 -1\r\n"),
        ] {
            assert!(parsed(&expect, reply).is_err(), "{reply:?}");
        }
        let endless = vec![b'x'; MAX_LINE + 1];
        assert!(parsed(&Expect::Store, &endless).is_err());
    }

    /// A fake memcached on loopback that reads one command line at a time and answers each
    /// with the next of `replies`, then holds the connection open.
    async fn fake_server(replies: &'static [&'static [u8]]) -> TcpStream {
        use tokio::io::AsyncBufReadExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let (socket, _) = listener.accept().await.expect("accept");
            let (read, mut write) = socket.into_split();
            let mut lines = tokio::io::BufReader::new(read).lines();
            for reply in replies {
                if lines.next_line().await.ok().flatten().is_none() {
                    return;
                }
                write.write_all(reply).await.expect("answer");
            }
            // Held open, silent, until the client goes.
            while let Ok(Some(_)) = lines.next_line().await {}
        });
        TcpStream::connect(address).await.expect("connect")
    }

    #[tokio::test]
    async fn a_refusal_keeps_the_connection_and_an_answer_out_of_step_ends_it() {
        let stream = fake_server(&[
            b"SERVER_ERROR out of memory storing object\r\n",
            b"HD\r\n",
            b"END\r\n",
        ])
        .await;
        let connection = Connection::start(stream);
        assert_eq!(
            connection.call(delete_command("a"), Expect::Delete).await,
            Err(Failure::Refused("out of memory storing object".into()))
        );
        assert!(!connection.is_closed());
        assert_eq!(
            connection.call(delete_command("b"), Expect::Delete).await,
            Ok(Reply::Deleted)
        );
        // `END` does not answer `md`: the connection ends, and says so to every later call.
        let out_of_step = connection.call(delete_command("c"), Expect::Delete).await;
        assert!(
            matches!(&out_of_step, Err(Failure::Broken(why)) if why.contains("out of step")),
            "{out_of_step:?}"
        );
        assert!(connection.is_closed());
        assert!(matches!(
            connection.call(delete_command("d"), Expect::Delete).await,
            Err(Failure::NotSent(..))
        ));
    }

    #[test]
    fn delivery_is_in_order_and_a_stray_reply_is_an_error() {
        let turns = Arc::new(Semaphore::new(4));
        let mut waiting = VecDeque::new();
        let mut answers = Vec::new();
        for expect in [Expect::Store, Expect::Delete, keys(&["a"])] {
            let (reply, answer) = oneshot::channel();
            let permit = Arc::clone(&turns).try_acquire_owned().expect("a turn");
            waiting.push_back(Waiting {
                expect,
                reply,
                _permit: permit,
            });
            answers.push(answer);
        }
        // The second caller stopped waiting: its reply is read and dropped.
        drop(answers.remove(1));
        let mut input = BytesMut::from(&b"NS\r\nNF\r\nVALUE a 0 1\r\nz\r\nEN"[..]);
        assert_eq!(deliver(&mut input, &mut waiting), Ok(()));
        // A reply read in part stays in the buffer, whole, until the rest comes.
        assert_eq!(&input[..], b"VALUE a 0 1\r\nz\r\nEN");
        assert_eq!(waiting.len(), 1);
        input.extend_from_slice(b"D\r\n");
        assert_eq!(deliver(&mut input, &mut waiting), Ok(()));
        assert!(waiting.is_empty() && input.is_empty());
        assert_eq!(turns.available_permits(), 4, "every turn given back");
        let mut answers = answers.into_iter();
        let mut next = || answers.next().expect("an answer").try_recv();
        assert_eq!(next(), Ok(Ok(Reply::Written(false))));
        assert_eq!(next(), Ok(Ok(Reply::Values(vec![Some(b"z".to_vec())]))));

        let mut stray = BytesMut::from(&b"HD\r\n"[..]);
        assert!(deliver(&mut stray, &mut VecDeque::new()).is_err());
    }
}
