//! The shipped model on PolNeAR dev (never used for training or tuning) must beat the regex
//! baseline of the issue (content F1 0.44, speaker F1 0.22) and the acceptance targets (0.60, 0.50)
//! with a margin. Needs the shared corpus (`rhetor_testkit::polnear`).

use rhetor_attribution::eval::overlap;
use rhetor_attribution::train::{evaluate, read_corpus};
use rhetor_attribution::Attributor;

#[test]
fn beats_the_baseline_on_polnear_dev() {
    let dir = rhetor_testkit::require!(rhetor_testkit::polnear()).join("dev");
    let docs = read_corpus(&dir).unwrap();
    assert_eq!(docs.len(), 84);
    let t0 = std::time::Instant::now();
    let r = evaluate(&Attributor::new(), &docs);
    eprintln!("PolNeAR dev ({:.1} s):\n{r}", t0.elapsed().as_secs_f64());
    assert!(r.content.f1 >= 0.70, "content F1 {:.4}", r.content.f1);
    // 0.7190 before nested copies of an attribution were merged.
    assert!(r.speaker.f1 >= 0.73, "speaker F1 {:.4}", r.speaker.f1);
}

/// PolNeAR's gold never has two attributions sharing most of a content; neither may the
/// extractor's output.
#[test]
fn no_nested_copies_on_polnear_dev() {
    let dir = rhetor_testkit::require!(rhetor_testkit::polnear()).join("dev");
    let att = Attributor::new();
    let (mut n, mut pairs) = (0, 0);
    for d in read_corpus(&dir).unwrap() {
        let a = att.extract(&d.doc).attributions;
        n += a.len();
        let size = |x: &[rhetor_core::Span]| x.iter().map(|s| s.len()).sum::<usize>();
        for i in 0..a.len() {
            for j in i + 1..a.len() {
                let shared = overlap(&a[i].content, &a[j].content);
                if shared * 5 > 4 * size(&a[i].content).min(size(&a[j].content)) {
                    pairs += 1;
                }
            }
        }
    }
    assert!(n > 1500, "{n} attributions");
    assert_eq!(pairs, 0, "nested pairs among {n} attributions");
}
