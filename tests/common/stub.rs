//! A scripted loopback HTTP server for provider tests: it answers requests in order from a queue
//! of canned responses (status, headers, body, delay) and counts requests. Hand-written (tokio
//! only) to keep a web framework out of the dev-dependencies for one test helper.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// A Content-Length to announce instead of the true one (to simulate truncation).
    pub declared_len: Option<usize>,
    pub delay: Duration,
}

impl Reply {
    pub fn ok(body: &str) -> Self {
        Reply {
            status: 200,
            headers: vec![],
            body: body.as_bytes().to_vec(),
            declared_len: None,
            delay: Duration::ZERO,
        }
    }
    pub fn status(status: u16, body: &str) -> Self {
        Reply {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
            declared_len: None,
            delay: Duration::ZERO,
        }
    }
    pub fn bytes(body: Vec<u8>) -> Self {
        Reply {
            status: 200,
            headers: vec![],
            body,
            declared_len: None,
            delay: Duration::ZERO,
        }
    }
    pub fn declaring(mut self, len: usize) -> Self {
        self.declared_len = Some(len);
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

pub struct Stub {
    pub url: String,
    pub requests: Arc<AtomicUsize>,
    pub bodies: Arc<Mutex<Vec<String>>>,
    /// The most requests it was answering at one time.
    pub max_in_flight: Arc<AtomicUsize>,
}

/// Start a server; after the queue is used up it repeats the last reply.
pub async fn start(replies: Vec<Reply>) -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let (rq, bd, mx) = (requests.clone(), bodies.clone(), max_in_flight.clone());
    let replies = Arc::new(replies);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (rq, bd, replies) = (rq.clone(), bd.clone(), replies.clone());
            let (mx, fl) = (mx.clone(), in_flight.clone());
            tokio::spawn(async move {
                // read headers, then Content-Length bytes of body
                let mut buf = Vec::new();
                let mut tmp = [0u8; 8192];
                let header_end = loop {
                    let n = match sock.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..header_end]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                while buf.len() < header_end + len {
                    let n = match sock.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&tmp[..n]);
                }
                let i = rq.fetch_add(1, Ordering::SeqCst);
                bd.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[header_end..]).to_string());
                let r = replies[i.min(replies.len() - 1)].clone();
                let now = fl.fetch_add(1, Ordering::SeqCst) + 1;
                mx.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(r.delay).await;
                fl.fetch_sub(1, Ordering::SeqCst);
                let len = r.declared_len.unwrap_or(r.body.len());
                let mut resp = format!("HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n", r.status);
                for (k, v) in &r.headers {
                    resp.push_str(&format!("{k}: {v}\r\n"));
                }
                resp.push_str("\r\n");
                let mut bytes = resp.into_bytes();
                bytes.extend_from_slice(&r.body);
                let _ = sock.write_all(&bytes).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Stub {
        url: format!("http://{addr}"),
        requests,
        bodies,
        max_in_flight,
    }
}

pub fn openai_body(text: &str) -> String {
    serde_json::json!({
        "model": "stub-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7}
    })
    .to_string()
}
