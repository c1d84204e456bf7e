//! Writes the seed corpora of the model-loader fuzz targets (`fuzz/seeds/model_*`): tiny models of
//! each kind, trained or initialised here in a second, as whole files (first byte 0) and as bare
//! payloads (first byte 1; the target wraps them in a valid container). The shipped models are
//! tens of megabytes, too large for a fuzzer to mutate quickly.
//!
//!     cargo run --release -p rhetor --example fuzz-seeds -- fuzz/seeds

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use rhetor::attribution::brat::BratAttribution;
use rhetor::attribution::train::{train as train_attribution, GoldDoc, TrainOptions as AttOptions};
use rhetor::corpus::{Article, LabelRow};
use rhetor::fast::{train as train_fast, TrainOptions};
use rhetor::neural::model::Net;
use rhetor::neural::{BertConfig, NeuralModel, Settings};
use rhetor::{Document, Manifest, ModelKind, Span, Technique};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const TEXTS: [&str; 3] = [
    "The senator said the deal was a shameful, cowardly surrender.\nThey are a gang of traitors.\n",
    "Critics, according to the paper, said the plan would destroy the nation.\nAgain and again.\n",
    "Officials said on Tuesday that the meeting went well.\n\"We will never give up,\" she said.\n",
];

fn write(dir: &Path, target: &str, name: &str, file: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).expect("seed folder");
    let mut whole = vec![0u8];
    whole.extend_from_slice(file);
    std::fs::write(d.join(format!("{name}-file")), whole).expect("seed");
    let man_len = u32::from_le_bytes(file[12..16].try_into().expect("header")) as usize;
    let mut payload = vec![1u8];
    payload.extend_from_slice(&file[16 + man_len + 8..file.len() - 4]);
    std::fs::write(d.join(format!("{name}-payload")), payload).expect("seed");
}

/// The code-point span of `words` in `text`.
fn at(text: &str, words: &str) -> Span {
    let b = text.find(words).expect("words in the text");
    let start = text[..b].chars().count();
    Span::new(start, start + words.chars().count())
}

fn fast() -> Vec<u8> {
    let articles: Vec<Article> = TEXTS
        .iter()
        .enumerate()
        .map(|(i, t)| Article {
            id: i.to_string(),
            doc: Document::new(*t).expect("text"),
        })
        .collect();
    let row = |i: usize, t: Technique, words: &str| LabelRow {
        id: i.to_string(),
        technique: Some(t),
        span: at(TEXTS[i], words),
        line: 0,
    };
    let labels = vec![
        row(
            0,
            Technique::LoadedLanguage,
            "a shameful, cowardly surrender",
        ),
        row(0, Technique::NameCallingLabeling, "a gang of traitors"),
        row(1, Technique::AppealToFearPrejudice, "destroy the nation"),
        row(1, Technique::Repetition, "Again and again"),
    ];
    let mut opts = TrainOptions {
        min_count: 1,
        classifier_seeds: 1,
        ..TrainOptions::default()
    };
    opts.tagger.epochs = 2;
    opts.classifier.epochs = 2;
    train_fast(&articles, &labels, &opts, rhetor::fast::manifest()).to_bytes()
}

fn attribution() -> Vec<u8> {
    let doc = Document::new(TEXTS[2]).expect("text");
    let docs = vec![GoldDoc {
        name: "seed".into(),
        atts: vec![BratAttribution {
            content: vec![at(TEXTS[2], "We will never give up,")],
            cue: vec![at(TEXTS[2], "said.")],
            source: Some(vec![at(TEXTS[2], "she")]),
        }],
        doc,
    }];
    let opts = AttOptions {
        epochs: 2,
        cue_bits: 8,
        arg_bits: 8,
        ..AttOptions::default()
    };
    train_attribution(&docs, &opts, |_| {}).to_bytes()
}

/// A BERT vocabulary laid out as the real one is where rhetor relies on it ([CLS] = 101,
/// [SEP] = 102), with the words of the seed texts after it.
fn tokenizer_json() -> String {
    let mut vocab: Vec<String> = vec!["[PAD]".into()];
    vocab.extend((1..100).map(|i| format!("[unused{i}]")));
    vocab.extend(["[UNK]", "[CLS]", "[SEP]", "[MASK]"].map(String::from));
    let words = "the senator said deal was a shameful , cowardly surrender . they are gang of traitors \
                 critics according to paper plan would destroy nation again and \" we will never give up she ##s";
    vocab.extend(words.split(' ').filter(|w| !w.is_empty()).map(String::from));
    let vocab: serde_json::Map<String, serde_json::Value> = vocab
        .into_iter()
        .enumerate()
        .map(|(i, w)| (w, i.into()))
        .collect();
    serde_json::json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": null,
        "decoder": null,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    })
    .to_string()
}

fn accurate() -> Vec<u8> {
    let tokenizer = tokenizer_json();
    let config = BertConfig {
        vocab_size: 140,
        hidden_size: 8,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        intermediate_size: 16,
        max_position_embeddings: 64,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
    };
    let device = Device::Cpu;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
    Net::new(&config, vb, false).expect("tiny encoder");
    let weights: HashMap<String, candle_core::Tensor> = varmap
        .data()
        .lock()
        .expect("varmap")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect();
    let settings = Settings {
        window: 16,
        stride: 12,
        batch: 2,
        ..Settings::default()
    };
    let manifest = Manifest::new(
        ModelKind::Encoder,
        "accurate",
        rhetor::model::technique_labels(),
    );
    NeuralModel::from_parts(manifest, settings, config, tokenizer, weights, &device)
        .expect("tiny encoder model")
        .to_bytes()
        .expect("model bytes")
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/seeds".into()),
    );
    write(&dir, "model_fast", "tiny", &fast());
    write(&dir, "model_attribution", "tiny", &attribution());
    write(&dir, "model_accurate", "tiny", &accurate());
    println!("seeds written under {}", dir.display());
}
