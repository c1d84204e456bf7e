//! Slow and greedy clients against the real server on loopback, over raw sockets: a client that
//! sends its headers a byte at a time (slowloris) or goes quiet on a kept-alive connection is cut
//! off after the header timeout; a flood of such connections past the connection limit delays a
//! good client by at most that timeout; huge headers get 431 and an endless body 413 or 503; and
//! through all of it the server keeps answering.

mod common;

use common::TestServer;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(1);

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Reads until the server closes the connection (or the read times out); what came, and when.
fn read_to_close(s: &mut TcpStream) -> (Vec<u8>, Duration) {
    let t = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
    (got, t.elapsed())
}

/// A complete `GET /healthz` on a fresh connection: the status line.
fn healthz(addr: SocketAddr) -> String {
    let mut s = connect(addr);
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (got, _) = read_to_close(&mut s);
    String::from_utf8_lossy(&got)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

async fn server(tweak: impl FnOnce(&mut rhetor_server::Config)) -> TestServer {
    TestServer::start(|c| {
        c.header_timeout = TIMEOUT;
        tweak(c);
    })
    .await
}

/// Runs blocking socket work off the runtime the server runs on.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_slow_with_its_headers_is_cut_off_and_others_are_served() {
    let s = server(|_| {}).await;
    let addr = s.addr;
    let (cut, during) = blocking(move || {
        let mut slow = connect(addr);
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
            .unwrap();
        // A byte every 300 ms: never the blank line that ends the headers.
        let drip = std::thread::spawn({
            let mut w = slow.try_clone().unwrap();
            move || {
                for _ in 0..40 {
                    std::thread::sleep(Duration::from_millis(300));
                    if w.write_all(b"X").is_err() {
                        break;
                    }
                }
            }
        });
        let during = healthz(addr);
        let (_, took) = read_to_close(&mut slow);
        let _ = drip.join();
        (took, during)
    })
    .await;
    assert_eq!(
        during, "HTTP/1.1 200 OK",
        "another client was served meanwhile"
    );
    assert!(
        cut >= TIMEOUT.mul_f32(0.8) && cut < TIMEOUT * 4,
        "the slow client was cut off after {cut:?}, not about {TIMEOUT:?}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed() {
    let s = server(|_| {}).await;
    let addr = s.addr;
    let (first, idle) = blocking(move || {
        let mut c = connect(addr);
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = c.read(&mut buf).unwrap();
        let first = String::from_utf8_lossy(&buf[..n]).to_string();
        // Then nothing: the connection is kept alive, waiting for a request that never comes.
        let (_, idle) = read_to_close(&mut c);
        (first, idle)
    })
    .await;
    assert!(first.starts_with("HTTP/1.1 200 OK"), "{first}");
    assert!(
        idle < TIMEOUT * 4,
        "an idle connection stayed open {idle:?}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_connections_delays_a_good_client_by_at_most_the_header_timeout() {
    const LIMIT: usize = 16;
    let s = server(|c| c.max_connections = LIMIT).await;
    let addr = s.addr;
    let (status, waited) = blocking(move || {
        // Twice the limit of sockets that never send a byte.
        let flood: Vec<TcpStream> = (0..2 * LIMIT).map(|_| connect(addr)).collect();
        std::thread::sleep(Duration::from_millis(200));
        let t = Instant::now();
        let status = healthz(addr);
        let waited = t.elapsed();
        drop(flood);
        (status, waited)
    })
    .await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    // The first LIMIT are cut after one timeout, the next LIMIT after another; then it is served.
    assert!(waited < TIMEOUT * 6, "the good client waited {waited:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_headers_get_431_and_endless_bodies_413_or_503() {
    let s = server(|c| {
        c.max_body_bytes = 64 * 1024;
        c.request_timeout = Duration::from_secs(2);
    })
    .await;
    let addr = s.addr;
    let (big, fast, slow, after) = blocking(move || {
        let status = |got: &[u8]| {
            String::from_utf8_lossy(got)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        };
        // A megabyte of headers.
        let mut c = connect(addr);
        let head = format!(
            "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
            "a".repeat(1 << 20)
        );
        let _ = c.write_all(head.as_bytes());
        let (got, _) = read_to_close(&mut c);
        let big = status(&got);

        // A chunked body without end, sent as fast as the socket takes it.
        let mut c = connect(addr);
        c.write_all(
            b"POST /api/analyze HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
              Transfer-Encoding: chunked\r\n\r\n",
        )
        .unwrap();
        let chunk = format!("{:x}\r\n{}\r\n", 8192, "x".repeat(8192));
        let mut reader = c.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            for _ in 0..10_000 {
                if c.write_all(chunk.as_bytes()).is_err() {
                    break;
                }
            }
        });
        let (got, _) = read_to_close(&mut reader);
        let _ = writer.join();
        let fast = status(&got);

        // The same, a few bytes a second: cut by the request time limit.
        let mut c = connect(addr);
        c.write_all(
            b"POST /api/analyze HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
              Transfer-Encoding: chunked\r\n\r\n",
        )
        .unwrap();
        let mut reader = c.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            for _ in 0..100 {
                std::thread::sleep(Duration::from_millis(100));
                if c.write_all(b"1\r\nx\r\n").is_err() {
                    break;
                }
            }
        });
        let t = Instant::now();
        let mut buf = [0u8; 4096];
        let n = reader.read(&mut buf).unwrap_or(0);
        let slow = (status(&buf[..n]), t.elapsed());
        drop(reader);
        let _ = writer.join();
        (big, fast, slow, healthz(addr))
    })
    .await;
    assert_eq!(big, "HTTP/1.1 431 Request Header Fields Too Large");
    assert_eq!(fast, "HTTP/1.1 413 Payload Too Large");
    assert_eq!(slow.0, "HTTP/1.1 503 Service Unavailable", "{slow:?}");
    assert!(slow.1 < Duration::from_secs(5), "{slow:?}");
    assert_eq!(after, "HTTP/1.1 200 OK", "the server still answers");
    s.stop().await;
}
