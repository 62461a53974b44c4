//! The `synthehr` command line: parses arguments and calls the library.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use synthehr::app::{self, GenerateOptions};
use synthehr::cohort::SourceKind;
use synthehr::llm::{CacheMode, ProviderKind};
use synthehr::project;

#[derive(Parser)]
#[command(
    name = "synthehr",
    version,
    about = "Reproducible case study: can LLMs generate useful, fair, private synthetic ICU records?",
    long_about = "synthehr builds the eICU design matrix of Lin, Yu & Lee (CHIL 2025), generates \
synthetic rows with LLMs through a committed, content-addressed response cache, measures fidelity, \
utility, fairness and privacy, and renders the report."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the report: run (or replay) every chapter notebook against the committed LLM cache
    /// and render target/report/ (self-contained HTML).
    Build {
        /// No network at all: data must be present (the LLM cache is always replayed, never called).
        #[arg(long)]
        offline: bool,
        /// Render the report even when a notebook fails (the build still says so).
        #[arg(long)]
        keep_going: bool,
        #[arg(long, env = "SYNTHEHR_DATA")]
        data: Option<PathBuf>,
        #[arg(long, default_value = "local")]
        profile: String,
        #[arg(long, default_value = "target/report")]
        out: PathBuf,
    },
    /// Real data: build the 83-column design matrix.
    #[command(subcommand)]
    Data(DataCommand),
    /// Generate synthetic rows for a profile's grid with an LLM, through the response cache.
    Generate(GenerateArgs),
    /// Classical generators (independent marginals, Gaussian copula) over a profile's grid.
    Baselines {
        /// Profile name (profiles/NAME.toml) or path.
        #[arg(long, default_value = "local")]
        profile: String,
        /// Data directory (defaults to $SYNTHEHR_DATA, then the download cache).
        #[arg(long, env = "SYNTHEHR_DATA")]
        data: Option<PathBuf>,
        #[arg(long, default_value = "target/synthetic")]
        out: PathBuf,
    },
    /// Execute one notebook headless (or replay it from the execution cache) and print its outputs.
    Run {
        notebook: PathBuf,
        /// Store the outputs back into the .ipynb (code cells unchanged), for Jupyter.
        #[arg(long)]
        write: bool,
        #[arg(long, env = "SYNTHEHR_DATA")]
        data: Option<PathBuf>,
        #[arg(long, default_value = "local")]
        profile: String,
    },
    /// Inspect and check the LLM response cache.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Benchmark a running server: real requests per workload, uncached; prints generated
    /// tokens/s, prompt tokens evaluated and valid rows per CPU-hour of the server process.
    Throughput(ThroughputArgs),
}

#[derive(clap::Args)]
struct ThroughputArgs {
    /// STRATEGY/fFEATURES/rROWS/free|constrained[/prefix][/eEXAMPLES][/gGRAMMAR] (repeatable),
    /// e.g. group/f10/r20/constrained or group/f82/r5/free/prefix.
    #[arg(long = "workload")]
    workloads: Vec<String>,
    /// Calls per workload (default: the server's slots).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    calls: Option<usize>,
    /// JSON lines the measurements are appended to; the table is printed from all of them.
    #[arg(long, default_value = "target/throughput/measurements.jsonl")]
    out: PathBuf,
    /// Only print the table of --out.
    #[arg(long)]
    table_only: bool,
    /// Measure again what --out holds already for this server setting (default: skip it, so
    /// an interrupted benchmark resumes where it stopped).
    #[arg(long)]
    again: bool,
    /// Profile whose seed and member pool the requests are planned from.
    #[arg(long, default_value = "local")]
    profile: String,
    #[arg(long, default_value = "http://127.0.0.1:8080/v1")]
    base_url: String,
    #[arg(long, default_value = "qwen2.5-coder-1.5b-instruct")]
    model: String,
    /// server.json of the server (its pid file beside it gives the CPU time).
    #[arg(long)]
    server_info: Option<PathBuf>,
    #[arg(long, default_value_t = 7200, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_secs: u64,
    #[arg(long, env = "SYNTHEHR_DATA")]
    data: Option<PathBuf>,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Build the design matrix (parquet + csv) and cohort.json from real data, and print the
    /// cohort summary (the analog of the paper's Table 6).
    Build {
        /// Which source layout the data has.
        #[arg(long, value_enum, default_value = "eicu-demo")]
        source: SourceKind,
        /// Data directory (eicu-demo: the folder holding eicu-demo/ and yaib-eicu-demo/;
        /// eicu-raw: the folder of PhysioNet tables; matrix: the CSV/Parquet file).
        /// Defaults to $SYNTHEHR_DATA, then the download cache.
        #[arg(long, env = "SYNTHEHR_DATA")]
        data: Option<PathBuf>,
        /// Output directory.
        #[arg(long, default_value = "target/cohort")]
        out: PathBuf,
    },
    /// Download the eICU demo tables (PhysioNet) and YAIB's hourly demo data, verify them, and
    /// write the ODbL attribution beside them. Files already present and verified are skipped.
    Fetch {
        /// Destination (default: $SYNTHEHR_DATA, then the platform cache directory).
        #[arg(long, env = "SYNTHEHR_DATA")]
        dest: Option<PathBuf>,
        /// Base URL of the eICU demo files (a mirror).
        #[arg(long, default_value = synthehr::cohort::fetch::PHYSIONET_URL)]
        physionet_url: String,
        /// Base URL of YAIB's demo_data/los/eicu_demo files (a mirror).
        #[arg(long, default_value = synthehr::cohort::fetch::YAIB_URL)]
        yaib_url: String,
    },
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Profile name (profiles/NAME.toml) or path.
    #[arg(long, default_value = "local")]
    profile: String,
    #[arg(long, value_enum, default_value = "openai-compatible")]
    provider: ProviderKind,
    /// API base URL (default: the provider's public API). A loopback URL means a local server
    /// whose fingerprint is read from server.json (scripts/local-llm.sh serve).
    #[arg(long)]
    base_url: Option<String>,
    /// Model id sent to the provider.
    #[arg(long)]
    model: String,
    /// API snapshot of the model (e.g. o1-2024-12-17); part of every cache key.
    #[arg(long)]
    snapshot: Option<String>,
    /// server.json of a local server (default: $SYNTHEHR_LLM_DIR/server.json).
    #[arg(long)]
    server_info: Option<PathBuf>,
    /// record: call on a miss; replay: cache only (a miss is an error); refresh: call again.
    #[arg(long, value_enum, default_value = "record")]
    mode: CacheMode,
    /// Same as --mode replay: no network at all.
    #[arg(long)]
    offline: bool,
    /// Only these stages of the profile (repeatable).
    #[arg(long = "stage")]
    stages: Vec<String>,
    /// How constrained cells are sent: a GBNF grammar (llama-server) or a JSON schema
    /// (structured outputs). Default: grammar for an OpenAI-compatible loopback server, JSON
    /// schema otherwise.
    #[arg(long, value_enum)]
    constrain_with: Option<synthehr::llm::client::ConstraintForm>,
    /// Requests in flight (default: the profile's; match the server's slots).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    concurrency: Option<usize>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_secs: u64,
    /// Send at most N new requests (cache misses), then stop: e.g. one wave of long calls,
    /// then other work. The next run resumes from the cache.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_new_calls: Option<u64>,
    #[arg(long, env = "SYNTHEHR_DATA")]
    data: Option<PathBuf>,
    /// The LLM response cache [default: the project's cache/llm]
    #[arg(long)]
    cache: Option<PathBuf>,
    #[arg(long, default_value = "target/synthetic")]
    out: PathBuf,
}

#[derive(Subcommand)]
enum CacheCommand {
    /// Entries, bytes, tokens and cost per model, entries per experiment cell.
    Stats {
        /// The LLM response cache [default: the project's cache/llm]
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// Re-check every entry: parses, key matches its file name and shard, no duplicates.
    /// Exits non-zero when anything is corrupt, orphaned or duplicated.
    Verify {
        /// The LLM response cache [default: the project's cache/llm]
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// Re-apply the redaction of copied real rows to every stored answer (after the rule changes).
    Redact {
        /// The LLM response cache [default: the project's cache/llm]
        #[arg(long)]
        cache: Option<PathBuf>,
        #[arg(long, env = "SYNTHEHR_DATA")]
        data: Option<PathBuf>,
    },
    /// List corrupt and orphaned files; delete them with --yes.
    Prune {
        /// The LLM response cache [default: the project's cache/llm]
        #[arg(long)]
        cache: Option<PathBuf>,
        #[arg(long)]
        yes: bool,
    },
}

fn main() -> ExitCode {
    app::quiet_on_closed_pipe();
    let cli = Cli::parse();
    let data = synthehr::data::data_dir;
    let result = match cli.command {
        Command::Data(DataCommand::Build {
            source,
            data: d,
            out,
        }) => app::data_build(source, &data(d), &out),
        Command::Data(DataCommand::Fetch {
            dest,
            physionet_url,
            yaib_url,
        }) => app::data_fetch(&data(dest), physionet_url, yaib_url),
        Command::Generate(g) => project::llm_cache_or(g.cache).and_then(|cache| {
            app::generate(&GenerateOptions {
                profile: g.profile,
                provider: g.provider,
                base_url: g.base_url,
                model: g.model,
                snapshot: g.snapshot,
                server_info: g.server_info,
                mode: if g.offline { CacheMode::Replay } else { g.mode },
                data: data(g.data),
                cache,
                out: g.out,
                timeout_secs: g.timeout_secs,
                concurrency: g.concurrency,
                stages: g.stages,
                constrain_with: g.constrain_with,
                max_new_calls: g.max_new_calls,
            })
        }),
        Command::Throughput(t) => project::llm_cache_or(None).and_then(|cache| {
            app::throughput(&app::ThroughputOptions {
                llm: GenerateOptions {
                    profile: t.profile,
                    provider: ProviderKind::OpenaiCompatible,
                    base_url: Some(t.base_url),
                    model: t.model,
                    snapshot: None,
                    server_info: t.server_info,
                    mode: CacheMode::Refresh,
                    data: if t.table_only {
                        PathBuf::new()
                    } else {
                        data(t.data)
                    },
                    cache,
                    out: PathBuf::new(),
                    timeout_secs: t.timeout_secs,
                    concurrency: None,
                    stages: Vec::new(),
                    constrain_with: None,
                    max_new_calls: None,
                },
                workloads: t.workloads,
                calls: t.calls,
                out: t.out,
                table_only: t.table_only,
                again: t.again,
            })
        }),
        Command::Baselines {
            profile,
            data: d,
            out,
        } => app::baselines(&profile, &data(d), &out),
        Command::Build {
            offline,
            keep_going,
            data: d,
            profile,
            out,
        } => app::build(&data(d), &profile, offline, keep_going, &out),
        Command::Run {
            notebook,
            write,
            data: d,
            profile,
        } => app::run_notebook(&notebook, &data(d), &profile, write),
        Command::Cache(CacheCommand::Stats { cache }) => {
            project::llm_cache_or(cache).and_then(|c| app::cache_stats(&c))
        }
        Command::Cache(CacheCommand::Verify { cache }) => {
            project::llm_cache_or(cache).and_then(|c| app::cache_verify(&c))
        }
        Command::Cache(CacheCommand::Prune { cache, yes }) => {
            project::llm_cache_or(cache).and_then(|c| app::cache_prune(&c, yes))
        }
        Command::Cache(CacheCommand::Redact { cache, data: d }) => {
            project::llm_cache_or(cache).and_then(|c| app::cache_redact(&c, &data(d)))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
