//! Real memcached and Redis servers for the store tests, on free loopback ports.
//!
//! Each server is a child process started by the test that owns it and killed by PID when its
//! handle drops, also when the test panics; its temporary directory goes with it. When a binary
//! is missing, the test fails with the command that installs it: `scripts/install-servers`.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long a server may take to accept connections after it starts.
const READY_WITHIN: Duration = Duration::from_secs(10);
/// Attempts at starting a server when the port picked was taken by someone else meanwhile.
const START_ATTEMPTS: u32 = 3;

/// The path of `binary` on `PATH`, or a failure that says how to install it.
fn require(binary: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(binary))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{binary}` is not installed: run scripts/install-servers (it installs memcached, \
             redis-server and redis-tools), then run the tests again"
        )
    })
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("bind a loopback port")
}

/// A directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "session-stores-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One server process; killed by its PID on drop.
#[derive(Debug)]
struct Process {
    name: &'static str,
    child: Option<Child>,
    log: PathBuf,
}

impl Process {
    fn spawn(name: &'static str, mut command: Command, log: PathBuf) -> Self {
        let log_file = std::fs::File::create(&log).expect("create a server log");
        let stderr = log_file.try_clone().expect("clone the log handle");
        let child = command
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {name}: {error}"));
        Process {
            name,
            child: Some(child),
            log,
        }
    }

    /// The child's PID, while it runs.
    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process has exited (for example because its port was taken).
    fn exited(&mut self) -> bool {
        match &mut self.child {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until the server on `port` answers and names itself as this process (`pid_on` asks
/// the server on a port for its PID). Fails if the process exits first or the time runs out.
///
/// A port from [`free_port`] is only free a moment: another test starting a server at the same
/// time can be handed it too, and then one of the two servers cannot bind it and exits. A probe
/// that only asked "does something answer on this port?" would take the other test's server for
/// ours; the PID cannot be mistaken.
fn wait_ready(
    process: &mut Process,
    port: u16,
    pid_on: fn(u16) -> Option<u32>,
) -> Result<(), String> {
    let deadline = Instant::now() + READY_WITHIN;
    while Instant::now() < deadline {
        if process.exited() {
            return Err(format!("{} exited: {}", process.name, process.log()));
        }
        if pid_on(port).is_some_and(|pid| Some(pid) == process.pid()) {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(10));
    }
    Err(format!(
        "{} did not answer on port {port} as PID {:?} within {READY_WITHIN:?}: {}",
        process.name,
        process.pid(),
        process.log()
    ))
}

fn connect(port: u16) -> Option<TcpStream> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    Some(stream)
}

/// Sends one text line and reads one line back.
fn ask(port: u16, line: &str) -> Option<String> {
    let mut stream = connect(port)?;
    stream.write_all(line.as_bytes()).ok()?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).ok()?;
    Some(reply)
}

/// The PID the memcached on `port` reports (`stats`: `STAT pid N`, then more lines, `END`).
fn memcached_pid(port: u16) -> Option<u32> {
    let mut stream = connect(port)?;
    stream.write_all(b"stats\r\n").ok()?;
    let mut pid = None;
    for line in BufReader::new(stream).lines() {
        let line = line.ok()?;
        if line.trim_end() == "END" {
            return pid;
        }
        if let Some(value) = line.strip_prefix("STAT pid ") {
            pid = value.trim_end().parse().ok();
        }
    }
    None
}

/// The PID the redis-server on `port` reports (`INFO server`: `process_id:N`).
fn redis_pid(port: u16) -> Option<u32> {
    let info = bulk_reply(port, "INFO server\r\n")?;
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim_end().parse().ok())
}

/// One memcached server on a free loopback port, default settings (64 MiB, 1 MiB items).
#[derive(Debug)]
pub struct Memcached {
    port: u16,
    process: Process,
    dir: TempDir,
}

impl Memcached {
    pub fn start() -> Self {
        let dir = TempDir::new("memcached");
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let mut process = spawn_memcached(port, &dir);
            match wait_ready(&mut process, port, memcached_pid) {
                Ok(()) => return Memcached { port, process, dir },
                Err(error) => last_error = error,
            }
        }
        panic!("memcached did not start: {last_error}");
    }

    /// Kills the server and starts a new one on the same port, as a crash and restart do: every
    /// item is gone. Returns once it answers `version`.
    pub fn restart(&mut self) {
        self.process.kill();
        self.process = spawn_memcached(self.port, &self.dir);
        if let Err(error) = wait_ready(&mut self.process, self.port, memcached_pid) {
            panic!("memcached did not restart on port {}: {error}", self.port);
        }
    }

    /// `127.0.0.1:port`, as `MemcachedStore` takes it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL to its PID): its connections reset, its data is gone.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

fn spawn_memcached(port: u16, dir: &TempDir) -> Process {
    let mut command = Command::new(require("memcached"));
    command.args(["-l", "127.0.0.1", "-U", "0", "-m", "64", "-t", "2"]);
    command.args(["-p", &port.to_string()]);
    // memcached refuses to run as root unless told which user to be; as anyone else the switch
    // is ignored.
    command.args(["-u", "root"]);
    Process::spawn("memcached", command, dir.path().join("log"))
}

/// Several memcached servers, for a pool.
#[derive(Debug)]
pub struct MemcachedPool {
    pub members: Vec<Memcached>,
}

impl MemcachedPool {
    pub fn start(size: usize) -> Self {
        MemcachedPool {
            members: (0..size).map(|_| Memcached::start()).collect(),
        }
    }

    pub fn addresses(&self) -> Vec<String> {
        self.members.iter().map(Memcached::address).collect()
    }

    /// Kills member `index`; the others keep running.
    pub fn kill(&mut self, index: usize) {
        self.members[index].kill();
    }
}

/// One redis-server on a free loopback port, nothing persisted.
#[derive(Debug)]
pub struct Redis {
    port: u16,
    /// The cluster bus port, for a cluster node.
    cluster_port: Option<u16>,
    process: Process,
    dir: TempDir,
}

impl Redis {
    pub fn start() -> Self {
        Redis::start_node(false)
    }

    fn start_node(cluster: bool) -> Self {
        Redis::start_announcing(cluster, None)
    }

    /// A node that tells clients (`CLUSTER SLOTS`, redirections) to reach it on `announce`, a
    /// port in front of it (a [`FaultProxy`]), instead of its own.
    fn start_announcing(cluster: bool, announce: Option<u16>) -> Self {
        let dir = TempDir::new("redis");
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let cluster_port = cluster.then(free_port);
            if let Some(announce) = announce {
                write_announce(&dir, announce, cluster_port);
            }
            let mut process = spawn_redis(port, cluster_port, &dir);
            match wait_ready(&mut process, port, redis_pid) {
                Ok(()) => {
                    return Redis {
                        port,
                        cluster_port,
                        process,
                        dir,
                    };
                }
                Err(error) => last_error = error,
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    /// `redis://127.0.0.1:port/`, as `RedisStore` takes it.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL to its PID). Its data is gone: nothing is persisted.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// `FLUSHALL`: every key of this node is gone, as after a restart without persistence.
    pub fn flushall(&self) {
        let reply = ask(self.port, "FLUSHALL\r\n");
        assert_eq!(
            reply.as_deref(),
            Some("+OK\r\n"),
            "FLUSHALL on {}",
            self.port
        );
    }

    /// `CLUSTER KEYSLOT key`, as this node computes it.
    pub fn keyslot(&self, key: &str) -> u16 {
        assert!(!key.contains(char::is_whitespace), "{key:?}");
        let reply = ask(self.port, &format!("CLUSTER KEYSLOT {key}\r\n")).unwrap_or_default();
        reply
            .strip_prefix(':')
            .and_then(|slot| slot.trim_end().parse().ok())
            .unwrap_or_else(|| panic!("CLUSTER KEYSLOT {key} answered {reply:?}"))
    }

    /// The slots this cluster node serves, from its own line of `CLUSTER NODES`.
    pub fn owned_slots(&self) -> Vec<std::ops::RangeInclusive<u16>> {
        let nodes = bulk_reply(self.port, "CLUSTER NODES\r\n").expect("CLUSTER NODES");
        let myself = nodes
            .lines()
            .find(|line| {
                line.split(' ')
                    .nth(2)
                    .is_some_and(|flags| flags.contains("myself"))
            })
            .unwrap_or_else(|| panic!("no `myself` line in CLUSTER NODES: {nodes}"));
        // `<id> <addr> <flags> <primary> <ping> <pong> <epoch> <state> <slot or range>...`
        myself
            .split(' ')
            .skip(8)
            .filter(|range| !range.starts_with('['))
            .map(|range| {
                let (first, last) = range.split_once('-').unwrap_or((range, range));
                let parse = |slot: &str| slot.parse::<u16>().expect("a slot number");
                parse(first)..=parse(last)
            })
            .collect()
    }

    /// Starts the server again on the same port (after [`kill`](Self::kill)), and returns once
    /// it answers `PING`.
    pub fn restart(&mut self) {
        self.process.kill();
        self.process = spawn_redis(self.port, self.cluster_port, &self.dir);
        if let Err(error) = wait_ready(&mut self.process, self.port, redis_pid) {
            panic!(
                "redis-server did not restart on port {}: {error}",
                self.port
            );
        }
    }
}

/// The announce settings of a node behind a proxy, kept in its directory so a restart keeps them.
fn write_announce(dir: &TempDir, announce: u16, cluster_port: Option<u16>) {
    let mut lines = format!("cluster-announce-ip 127.0.0.1\ncluster-announce-port {announce}\n");
    if let Some(bus) = cluster_port {
        lines.push_str(&format!("cluster-announce-bus-port {bus}\n"));
    }
    std::fs::write(dir.path().join("announce.conf"), lines).expect("write announce.conf");
}

fn spawn_redis(port: u16, cluster_port: Option<u16>, dir: &TempDir) -> Process {
    let binary = require("redis-server");
    let mut command = Command::new(binary);
    let announce = dir.path().join("announce.conf");
    if announce.is_file() {
        // The config file comes first; the options below are added to it.
        command.arg(&announce);
    }
    command.args(["--port", &port.to_string(), "--bind", "127.0.0.1"]);
    command.args(["--save", "", "--appendonly", "no", "--daemonize", "no"]);
    command.arg("--dir").arg(dir.path());
    if let Some(bus) = cluster_port {
        command.args([
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            &bus.to_string(),
        ]);
        command
            .arg("--cluster-config-file")
            .arg(dir.path().join("nodes.conf"));
        command.args(["--cluster-node-timeout", "2000"]);
    }
    Process::spawn("redis-server", command, dir.path().join("log"))
}

/// A Redis Cluster of three primaries, no replicas, every slot assigned.
#[derive(Debug)]
pub struct RedisCluster {
    pub nodes: Vec<Redis>,
}

impl RedisCluster {
    pub fn start() -> Self {
        RedisCluster::create((0..3).map(|_| Redis::start_node(true)).collect())
    }

    /// A cluster whose nodes announce `announce[i]` (the ports of proxies in front of them) as
    /// their addresses: clients following the slot map go through the proxies.
    ///
    /// `before_create` gets the nodes' own ports once they run, before the cluster is created
    /// (which already goes through the announced ports): the place to start the proxies.
    pub fn start_announcing(announce: &[u16], before_create: impl FnOnce(&[u16])) -> Self {
        let nodes: Vec<Redis> = announce
            .iter()
            .map(|&port| Redis::start_announcing(true, Some(port)))
            .collect();
        before_create(&nodes.iter().map(Redis::port).collect::<Vec<_>>());
        RedisCluster::create(nodes)
    }

    fn create(nodes: Vec<Redis>) -> Self {
        let redis_cli = require("redis-cli");
        let mut create = Command::new(redis_cli);
        create.args(["--cluster", "create"]);
        create.args(nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)));
        create.args(["--cluster-replicas", "0", "--cluster-yes"]);
        let output = create.output().expect("run redis-cli --cluster create");
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let cluster = RedisCluster { nodes };
        cluster.wait_ok();
        cluster
    }

    /// Kills every node and starts each again on its ports (nothing persisted: the data is
    /// gone, the cluster configuration file is kept), then waits until the cluster is ok.
    pub fn restart_all(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        for node in &mut self.nodes {
            node.restart();
        }
        self.wait_ok();
    }

    /// The nodes' own ports (not the announced ones).
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(Redis::port).collect()
    }

    /// Waits until every node reports the cluster ok, with all slots and all nodes known.
    pub fn wait_ok(&self) {
        let deadline = Instant::now() + READY_WITHIN;
        let mut last = String::new();
        while Instant::now() < deadline {
            let infos: Vec<String> = self
                .nodes
                .iter()
                .map(|node| cluster_info(node.port).unwrap_or_default())
                .collect();
            let ok = infos.iter().all(|info| {
                info.contains("cluster_state:ok")
                    && info.contains("cluster_slots_ok:16384")
                    && info.contains("cluster_known_nodes:3")
            });
            if ok {
                return;
            }
            last = infos.join("\n---\n");
            thread::sleep(Duration::from_millis(50));
        }
        panic!("the Redis Cluster did not become ok within {READY_WITHIN:?}:\n{last}");
    }

    /// One `redis://` URL per node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(Redis::url).collect()
    }
}

/// `CLUSTER INFO` of the node on `port`.
fn cluster_info(port: u16) -> Option<String> {
    bulk_reply(port, "CLUSTER INFO\r\n")
}

/// Sends one inline command and reads its reply as a RESP bulk string.
fn bulk_reply(port: u16, line: &str) -> Option<String> {
    let mut stream = connect(port)?;
    stream.write_all(line.as_bytes()).ok()?;
    let mut reader = BufReader::new(stream);
    let mut header = String::new();
    reader.read_line(&mut header).ok()?;
    let len: usize = header.strip_prefix('$')?.trim_end().parse().ok()?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    String::from_utf8(body).ok()
}

/// A TCP listener on loopback that accepts every connection and never sends a byte.
#[derive(Debug)]
pub struct BlackHole {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BlackHole {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("bound address").port();
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = thread::spawn(move || {
            // Held open, never read or written, until the black hole drops.
            let mut held = Vec::new();
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        BlackHole {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:port`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `redis://127.0.0.1:port/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What a [`FaultProxy`] does with the traffic it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwards both ways.
    Pass,
    /// The server is down: open connections are closed, new ones accepted and closed at once.
    Down,
    /// The server stopped answering: connections are accepted and held, nothing is forwarded.
    Hang,
}

/// A TCP proxy on a free loopback port in front of one server, whose traffic a test switches
/// between passing, down and hung (through the `watch` channel it was made with), so one test
/// can take "its" server down without touching the others sharing that server.
///
/// A connection that saw anything but [`Fault::Pass`] is closed and never forwards again (a
/// hung request left half-way would answer the next one): clients reconnect once it passes.
/// The proxy runs on the Tokio runtime it was started on; it stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy to `127.0.0.1:upstream`, following `fault`. Call inside a Tokio runtime.
    pub fn start(upstream: u16, fault: tokio::sync::watch::Receiver<Fault>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        FaultProxy::on(listener, upstream, fault)
    }

    /// A proxy on a listener bound beforehand (for a server that must know the port first).
    pub fn on(
        listener: TcpListener,
        upstream: u16,
        fault: tokio::sync::watch::Receiver<Fault>,
    ) -> Self {
        let port = listener.local_addr().expect("bound address").port();
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let listener = tokio::net::TcpListener::from_std(listener).expect("a Tokio listener");
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if *fault.borrow() == Fault::Down {
                    drop(client);
                    continue;
                }
                tokio::spawn(pipe(client, upstream, fault.clone()));
            }
        });
        FaultProxy { port, task }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:port`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `redis://127.0.0.1:port/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One proxied connection: forwards while the fault is `Pass`; closes on `Down`; on `Hang`
/// holds both sides silent until the fault changes, then closes.
async fn pipe(
    mut client: tokio::net::TcpStream,
    upstream: u16,
    mut fault: tokio::sync::watch::Receiver<Fault>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if *fault.borrow() == Fault::Hang {
        let _ = fault.wait_for(|f| *f != Fault::Hang).await;
        return;
    }
    let Ok(mut server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else {
        return;
    };
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        let passing = tokio::select! {
            read = client.read(&mut up) => match read {
                Ok(n) if n > 0 && *fault.borrow() == Fault::Pass => {
                    server.write_all(&up[..n]).await.is_ok()
                }
                Ok(n) if n > 0 => false,
                _ => return,
            },
            read = server.read(&mut down) => match read {
                Ok(n) if n > 0 && *fault.borrow() == Fault::Pass => {
                    client.write_all(&down[..n]).await.is_ok()
                }
                Ok(n) if n > 0 => false,
                _ => return,
            },
            changed = fault.changed() => changed.is_ok() && *fault.borrow() == Fault::Pass,
        };
        if !passing {
            break;
        }
    }
    if *fault.borrow() == Fault::Hang {
        // Held open and silent: the caller's own timeout is what ends its call.
        let _ = fault.wait_for(|f| *f != Fault::Hang).await;
    }
}
