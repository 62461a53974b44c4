//! The LLM client: cache first, then the provider with bounded concurrency, a per-request
//! timeout and retries with exponential backoff and full jitter (honouring Retry-After).

use super::answers::{replay_entry, Answered, Answers};
pub use super::answers::{ConstraintForm, Redactor};
use super::cache::{self, Cache, CacheMode, Entry, Lookup, Provenance};
use super::fingerprint::ModelFingerprint;
use super::provider::{self, CallError, Completion, ProviderKind};
use super::request::ChatRequest;
use crate::error::{Error, Result};
use rand::Rng;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: uniform in [0, min(cap, base * 2^attempt)].
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.min(16));
        let ceiling = exp.min(self.cap);
        let ms = rand::thread_rng().gen_range(0..=ceiling.as_millis().max(1) as u64);
        Duration::from_millis(ms)
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub provider: ProviderKind,
    pub base_url: String,
    /// Model id sent to the provider.
    pub model: String,
    pub fingerprint: ModelFingerprint,
    pub concurrency: usize,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub mode: CacheMode,
    /// How constrained requests are sent; `None` = by the server ([`Self::constraint_form`]).
    pub constraint: Option<ConstraintForm>,
}

/// A URL as it may be printed: a key or password in its userinfo (`https://user:KEY@host/`) is
/// replaced by `***`, so a secret passed in `--base-url` never reaches a log or an error.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => url.to_string(),
    }
}

/// Whether a base URL points at this machine (a local server such as llama-server): its host
/// is `localhost` or a loopback address (127.0.0.0/8, `[::1]`). Not a URL: no.
pub fn is_loopback(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    match u.host_str() {
        Some(h) if h.eq_ignore_ascii_case("localhost") => true,
        Some(h) => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

impl ClientConfig {
    /// As set, else GBNF for an OpenAI-compatible server on loopback (llama-server) and a JSON
    /// schema for everything else (a loopback vLLM or Ollama takes `--constrain-with json-schema`).
    pub fn constraint_form(&self) -> ConstraintForm {
        if let Some(f) = self.constraint {
            return f;
        }
        if self.provider == ProviderKind::OpenaiCompatible && is_loopback(&self.base_url) {
            ConstraintForm::Gbnf
        } else {
            ConstraintForm::JsonSchema
        }
    }
}

/// Counters a run reports (requests made, cache hits, tokens).
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    /// Cache misses sent to the provider (a call with retries counts once).
    pub new_calls: AtomicU64,
    pub retries: AtomicU64,
    pub hits: AtomicU64,
    pub recorded: AtomicU64,
    pub prompt_tokens: AtomicU64,
    pub completion_tokens: AtomicU64,
}

pub struct LlmClient {
    cfg: ClientConfig,
    api_key: Option<String>,
    http: reqwest::Client,
    slots: Arc<Semaphore>,
    cache: Cache,
    /// One lock per key (true once this client recorded it): cells that share calls — the
    /// sample-size cells are prefixes of one stream — run side by side, and the same request
    /// must go to the server once, not once per cell.
    keys: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<bool>>>>,
    pub counters: Counters,
    /// At most this many new requests (cache misses sent to the provider) in this run, then
    /// every further miss is [`Error::CallCap`]: a long call stream stops at a chosen point,
    /// and the next run resumes from the cache.
    new_call_cap: Option<u64>,
    /// A recording client holds the cache's writer lock for its lifetime.
    _writing: Option<super::cache::CacheLock>,
}

/// A failed lookup or call, with the key and cell so a replay miss can be listed.
#[derive(Debug, Clone)]
pub struct Miss {
    pub key: String,
    pub cell: serde_json::Value,
}

impl LlmClient {
    pub fn new(cfg: ClientConfig, cache: Cache) -> Result<Self> {
        // a malformed URL is the user's typo: say so now, never retry it
        let url = reqwest::Url::parse(&cfg.base_url).map_err(|e| {
            Error::Llm(format!(
                "--base-url {:?} is not a URL ({e})",
                redact_url(&cfg.base_url)
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Llm(format!(
                "--base-url {}: only http and https are supported",
                redact_url(&cfg.base_url)
            )));
        }
        let api_key = std::env::var(cfg.provider.key_env())
            .ok()
            .filter(|k| !k.is_empty());
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| Error::Llm(format!("cannot build the HTTP client: {e}")))?;
        let writing = match cfg.mode {
            CacheMode::Replay => None,
            _ => Some(cache.lock_writer()?),
        };
        Ok(LlmClient {
            _writing: writing,
            slots: Arc::new(Semaphore::new(cfg.concurrency.max(1))),
            cfg,
            api_key,
            http,
            cache,
            keys: Default::default(),
            counters: Counters::default(),
            new_call_cap: None,
        })
    }

    /// Send at most `cap` new requests in this run (`--max-new-calls`).
    pub fn with_new_call_cap(mut self, cap: u64) -> Self {
        self.new_call_cap = Some(cap);
        self
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub fn key(&self, req: &ChatRequest, replicate: u32) -> String {
        cache::key(&self.cfg.fingerprint, req, replicate)
    }

    /// Answer a request from the cache or the provider, according to the mode.
    pub async fn complete(
        &self,
        req: &ChatRequest,
        replicate: u32,
        provenance: Provenance,
    ) -> Result<Entry> {
        self.complete_redacted(req, replicate, provenance, None)
            .await
            .map(|a| a.entry)
    }

    /// As [`complete`](Self::complete), with `redact` applied to a fresh answer before it is
    /// stored (it returns the text to keep and how many lines it removed): the cache must never
    /// hold real rows, and a model may copy the examples it was shown.
    pub async fn complete_redacted(
        &self,
        req: &ChatRequest,
        replicate: u32,
        provenance: Provenance,
        redact: Option<&Redactor<'_>>,
    ) -> Result<Answered> {
        let cached = |entry| Answered {
            entry,
            fresh: false,
        };
        let key = self.key(req, replicate);
        if self.cfg.mode != CacheMode::Refresh {
            if let Some(e) = self.lookup(&key, &provenance, true)? {
                return Ok(cached(e));
            }
        }
        let lock = {
            let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            keys.entry(key.clone()).or_default().clone()
        };
        let mut recorded = lock.lock().await;
        // another generator process may be asking for this call right now
        let _inflight = self.inflight_lock(&key).await?;
        // another cell (or process) may have recorded it while this one waited
        if *recorded || self.cfg.mode != CacheMode::Refresh {
            if let Some(e) = self.lookup(&key, &provenance, false)? {
                return Ok(cached(e));
            }
        }
        let sent_before = self.counters.new_calls.fetch_add(1, Ordering::Relaxed);
        if let Some(cap) = self.new_call_cap.filter(|&cap| sent_before >= cap) {
            return Err(Error::CallCap { cap });
        }
        let started = Instant::now();
        let mut completion = self.call_with_retries(req).await?;
        let mut redacted_lines = 0;
        if let Some(r) = redact {
            let (text, n) = r(&completion.text);
            completion.text = text;
            redacted_lines = n;
        }
        let entry = Entry {
            schema: cache::CACHE_SCHEMA,
            key,
            model: self.cfg.fingerprint.clone(),
            sampling: req.sampling.clone(),
            replicate,
            prompt_hash: cache::prompt_hash(req),
            provenance,
            response: completion,
            redacted_lines,
            latency_ms: started.elapsed().as_millis() as u64,
            created_at: cache::now_rfc3339(),
            answer_sha256: None, // Cache::put seals it
        };
        let entry = self.cache.put(&entry)?;
        *recorded = true;
        self.counters.recorded.fetch_add(1, Ordering::Relaxed);
        Ok(Answered { entry, fresh: true })
    }

    /// Wait for the in-flight lock of `key` (polled: a call takes seconds to hours, and a
    /// blocking OS wait would hold a runtime thread).
    async fn inflight_lock(&self, key: &str) -> Result<cache::CacheLock> {
        loop {
            if let Some(lock) = self.cache.try_lock_inflight(key)? {
                return Ok(lock);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Fail closed before constrained generation: some llama-server builds accept a `grammar`
    /// and silently ignore it (HTTP 200, unconstrained text). A prose prompt under a digits-only
    /// grammar must come back as digits; the answer is never cached. Returns the answer text.
    pub async fn grammar_selftest(&self) -> Result<String> {
        use super::selftest::{selftest_passed, SELFTEST_GRAMMAR, SELFTEST_PROMPT};
        let req = ChatRequest {
            messages: vec![super::Message::user(SELFTEST_PROMPT)],
            sampling: super::Sampling {
                temperature: 0.0,
                max_tokens: 32,
                seed: Some(1),
                grammar: Some(SELFTEST_GRAMMAR.into()),
                ..super::Sampling::default()
            },
        };
        let answer = self.call_with_retries(&req).await?.text;
        if selftest_passed(&answer) {
            Ok(answer)
        } else {
            Err(Error::Llm(format!(
                "grammar self-test failed at {}: asked for prose under a digits-only grammar, the server \
                 answered {:?}. It ignores the `grammar` field, so constrained answers would be \
                 unconstrained; nothing was recorded",
                redact_url(&self.cfg.base_url),
                answer.chars().take(120).collect::<String>()
            )))
        }
    }

    /// The cached entry for `key`, `None` when it must be requested, or the replay error.
    /// `warn`: say that a corrupt entry will be re-recorded (once, on the first look).
    fn lookup(&self, key: &str, provenance: &Provenance, warn: bool) -> Result<Option<Entry>> {
        if self.cfg.mode == CacheMode::Replay {
            let e = replay_entry(&self.cache, key, provenance)?;
            self.counters.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(e));
        }
        match self.cache.get(key) {
            Lookup::Hit(e) => {
                self.counters.hits.fetch_add(1, Ordering::Relaxed);
                Ok(Some(*e))
            }
            Lookup::Corrupt { file, why } => {
                if warn {
                    eprintln!(
                        "warning: corrupt cache entry will be re-recorded: {}: {why}",
                        file.display()
                    );
                }
                Ok(None)
            }
            Lookup::Miss => Ok(None),
        }
    }

    /// One request straight to the provider (with retries), bypassing the cache: for the
    /// throughput benchmark, whose answers measure a server setting and are not study data.
    pub async fn call_uncached(&self, req: &ChatRequest) -> Result<Completion> {
        self.call_with_retries(req).await
    }

    async fn call_with_retries(&self, req: &ChatRequest) -> Result<Completion> {
        let mut attempt = 0;
        loop {
            match self.call_once(req).await {
                Ok(c) => {
                    self.counters
                        .prompt_tokens
                        .fetch_add(c.usage.prompt_tokens, Ordering::Relaxed);
                    self.counters
                        .completion_tokens
                        .fetch_add(c.usage.completion_tokens, Ordering::Relaxed);
                    return Ok(c);
                }
                Err(CallError::Fatal(m)) => {
                    return Err(Error::Llm(format!(
                        "{} at {}: {m}",
                        self.cfg.provider.name(),
                        redact_url(&self.cfg.base_url)
                    )))
                }
                Err(CallError::Retryable {
                    message,
                    retry_after,
                }) => {
                    attempt += 1;
                    if attempt >= self.cfg.retry.max_attempts {
                        return Err(Error::Llm(format!(
                            "{} at {}: gave up after {attempt} attempts: {message}",
                            self.cfg.provider.name(),
                            redact_url(&self.cfg.base_url)
                        )));
                    }
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    let wait = retry_after
                        .map(|d| d.min(self.cfg.retry.cap))
                        .unwrap_or_else(|| self.cfg.retry.backoff(attempt));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn call_once(&self, req: &ChatRequest) -> std::result::Result<Completion, CallError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| CallError::Fatal("client shut down".into()))?;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let wire = provider::build(
            self.cfg.provider,
            &self.cfg.base_url,
            &self.cfg.model,
            self.api_key.as_deref(),
            req,
        );
        let mut rb = self.http.post(&wire.url).json(&wire.body);
        for (k, v) in &wire.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        let resp = rb.send().await.map_err(|e| CallError::Retryable {
            message: if e.is_timeout() {
                format!("timed out after {:?}", self.cfg.timeout)
            } else if e.is_connect() {
                format!(
                    "cannot connect to {} (is the server running?)",
                    redact_url(&self.cfg.base_url)
                )
            } else {
                format!("request failed: {}", e.without_url())
            },
            retry_after: None,
        })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        let body = resp.text().await.map_err(|e| CallError::Retryable {
            message: format!("reading the response failed: {}", e.without_url()),
            retry_after: None,
        })?;
        if !(200..300).contains(&status) {
            return Err(provider::classify_status(status, retry_after, &body));
        }
        provider::parse(self.cfg.provider, &body)
    }
}

impl Answers for LlmClient {
    fn mode(&self) -> CacheMode {
        self.cfg.mode
    }
    fn concurrency(&self) -> usize {
        self.cfg.concurrency.max(1)
    }
    fn constraint_form(&self) -> ConstraintForm {
        self.cfg.constraint_form()
    }
    fn key(&self, req: &ChatRequest, replicate: u32) -> String {
        LlmClient::key(self, req, replicate)
    }
    fn fresh_completion_tokens(&self) -> u64 {
        self.counters.completion_tokens.load(Ordering::Relaxed)
    }
    fn asked_elsewhere(&self, req: &ChatRequest, replicate: u32) -> bool {
        // the call's in-flight lock is held (a lock this run holds counts too: another cell of
        // it is asking); a recorded call is asked by nobody (and gets no lock file), and an
        // unreadable lock directory means "not known to be asked"
        let key = self.key(req, replicate);
        !self.cache.path_for(&key).exists()
            && matches!(self.cache.try_lock_inflight(&key), Ok(None))
    }
    fn answer<'a>(
        &'a self,
        req: &'a ChatRequest,
        replicate: u32,
        provenance: Provenance,
        redact: Option<&'a Redactor<'a>>,
    ) -> impl std::future::Future<Output = Result<Answered>> + Send + 'a {
        self.complete_redacted(req, replicate, provenance, redact)
    }
}
