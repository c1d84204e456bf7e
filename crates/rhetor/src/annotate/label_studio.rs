//! Label Studio: tasks with predictions as pre-annotations, the labelling config, and the import
//! of an export's completed annotations.
//!
//! A task is `{"data": {"text", "id", "uncertainty"}, "predictions": [{"model_version", "score",
//! "result": [region...]}]}`; a region is `{"id", "from_name": "label", "to_name": "text", "type":
//! "labels", "value": {"start", "end", "text", "labels": [technique]}, "score"}` with code-point
//! offsets. Label Studio's JSON export keeps that shape and adds `annotations`, each with its own
//! `result` list: import reads the last annotation of a task that was not cancelled and ignores the
//! predictions.

use super::{
    check_id, check_region, invalid, parse_technique, sort_articles, Corrected, Imported, Task,
};
use crate::corpus::LabelRow;
use crate::{Document, Error, Span, Technique};
use serde_json::{json, Value};
use std::collections::HashSet;

/// The `<Labels>` control's name (`from_name` of every region).
pub const FROM_NAME: &str = "label";
/// The `<Text>` object's name (`to_name` of every region).
pub const TO_NAME: &str = "text";

/// The labelling config: the article text and the 14 techniques with rhetor's colours, for
/// Label Studio's "Labeling Interface" (Code view).
pub fn labeling_config() -> String {
    let mut s = String::from("<View>\n");
    s.push_str(&format!(
        "  <Labels name=\"{FROM_NAME}\" toName=\"{TO_NAME}\" showInline=\"false\">\n"
    ));
    for t in crate::render::technique_list() {
        s.push_str(&format!(
            "    <Label value=\"{}\" background=\"{}\" hint=\"{}\"/>\n",
            xml_attr(t.name),
            t.color,
            xml_attr(t.definition)
        ));
    }
    s.push_str("  </Labels>\n");
    s.push_str(&format!(
        "  <Text name=\"{TO_NAME}\" value=\"$text\" granularity=\"symbol\"/>\n</View>\n"
    ));
    s
}

fn xml_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The tasks as Label Studio's import JSON (a list), in the given order; `model` names the
/// predictions' `model_version`.
pub fn tasks_json(tasks: &[Task], model: &str) -> String {
    let list: Vec<Value> = tasks
        .iter()
        .map(|t| {
            let result: Vec<Value> = t
                .detections
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    json!({
                        "id": format!("r{}", i + 1),
                        "from_name": FROM_NAME,
                        "to_name": TO_NAME,
                        "type": "labels",
                        "value": {
                            "start": d.span.start(),
                            "end": d.span.end(),
                            "text": t.doc.slice(d.span),
                            "labels": [d.technique.name()],
                        },
                        "score": round3(d.confidence as f64),
                    })
                })
                .collect();
            let mean = if t.detections.is_empty() {
                0.0
            } else {
                t.detections
                    .iter()
                    .map(|d| d.confidence as f64)
                    .sum::<f64>()
                    / t.detections.len() as f64
            };
            json!({
                "data": {
                    "text": t.doc.text(),
                    "id": t.id,
                    "uncertainty": round3(t.uncertainty()),
                },
                "predictions": [{
                    "model_version": model,
                    "score": round3(mean),
                    "result": result,
                }],
            })
        })
        .collect();
    // Plain data always serialises.
    serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Reads a Label Studio JSON export; `origin` (the file) names it in errors, which also give the
/// task (1-based, with its `data.id`) and the region.
pub fn import(text: &str, origin: &str) -> Result<Imported, Error> {
    let root: Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("{origin}: not JSON: {e}")))?;
    let Some(tasks) = root.as_array() else {
        return Err(invalid(format!(
            "{origin}: a Label Studio JSON export is a list of tasks (export with format \"JSON\")"
        )));
    };
    let mut out = Imported::default();
    let mut seen = HashSet::new();
    for (i, task) in tasks.iter().enumerate() {
        let at = format!("{origin}: task {}", i + 1);
        let data = task
            .get("data")
            .ok_or_else(|| invalid(format!("{at}: no \"data\"")))?;
        let id = match data.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(invalid(format!(
                    "{at}: no data.id (the article id that rhetor export-tasks writes)"
                )))
            }
        };
        let at = format!("{at} (data.id {id})");
        check_id(&id, &at)?;
        let Some(text) = data.get("text").and_then(Value::as_str) else {
            return Err(invalid(format!("{at}: no data.text")));
        };
        let Some(annotation) = last_completed(task) else {
            out.skipped += 1;
            continue;
        };
        if !seen.insert(id.clone()) {
            return Err(invalid(format!("{at}: a second task with this id")));
        }
        let doc = Document::new(text.to_string()).map_err(|e| invalid(format!("{at}: {e}")))?;
        let results = annotation
            .get("result")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut rows = Vec::new();
        for (j, region) in results.iter().enumerate() {
            let at = format!("{at}, annotation result {}", j + 1);
            for (technique, span) in
                read_region(region, &doc).map_err(|e| invalid(format!("{at}: {e}")))?
            {
                rows.push(LabelRow {
                    id: id.clone(),
                    technique: Some(technique),
                    span,
                    line: 0,
                });
            }
        }
        out.articles.push(Corrected::new(id, doc, rows));
    }
    sort_articles(&mut out.articles);
    Ok(out)
}

/// The last annotation of a task that was not cancelled.
fn last_completed(task: &Value) -> Option<&Value> {
    task.get("annotations")?.as_array()?.iter().rev().find(|a| {
        !a.get("was_cancelled")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    })
}

/// A `labels` region as (technique, span) pairs, one per label; other result types (relations,
/// choices, text areas) are not spans and give none.
fn read_region(region: &Value, doc: &Document) -> Result<Vec<(Technique, Span)>, String> {
    if region.get("type").and_then(Value::as_str) != Some("labels") {
        return Ok(Vec::new());
    }
    let value = region.get("value").ok_or("no \"value\"")?;
    let offset = |k: &str| {
        value
            .get(k)
            .and_then(Value::as_u64)
            .map(|v| v as usize)
            .ok_or_else(|| format!("value.{k} is not a non-negative integer"))
    };
    let (start, end) = (offset("start")?, offset("end")?);
    let span = Span::try_new(start, end).ok_or(format!("offsets {start}-{end} run backwards"))?;
    check_region(doc, span, value.get("text").and_then(Value::as_str))?;
    let labels = value
        .get("labels")
        .and_then(Value::as_array)
        .ok_or("no value.labels")?;
    labels
        .iter()
        .map(|l| {
            let name = l.as_str().ok_or("a label that is not a string")?;
            let t = parse_technique(name).ok_or_else(|| {
                format!("unknown label {name:?} (`rhetor techniques` lists the 14 names)")
            })?;
            Ok((t, span))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_names_every_technique_with_its_colour() {
        let c = labeling_config();
        for t in Technique::ALL {
            assert!(
                c.contains(&format!(
                    "<Label value=\"{}\" background=\"{}\"",
                    t.name(),
                    t.color()
                )),
                "{t}"
            );
        }
        assert!(c.contains("<Text name=\"text\" value=\"$text\""));
        assert_eq!(c.matches("<Label ").count(), 14);
    }

    #[test]
    fn bad_exports_are_refused_with_task_and_region() {
        let task = |value: &str| {
            format!(
                r#"[{{"data": {{"text": "Ab 😀 cd", "id": 7}}, "annotations": [{{"result": [
                {{"type": "labels", "value": {{"start": 0, "end": 2, "labels": ["Doubt"]}}}},
                {{"type": "labels", "value": {value}}}]}}]}}]"#
            )
        };
        let err = |value: &str| import(&task(value), "x.json").unwrap_err().to_string();
        let e = err(r#"{"start": 3, "end": 4, "labels": ["Lies"]}"#);
        assert!(
            e.starts_with(
                "x.json: task 1 (data.id 7), annotation result 2: unknown label \"Lies\""
            ),
            "{e}"
        );
        let e = err(r#"{"start": 3, "end": 9, "labels": ["Doubt"]}"#);
        assert!(
            e.contains("result 2: offsets 3-9 are outside the text (7 code points)"),
            "{e}"
        );
        let e = err(r#"{"start": 3, "end": 4, "text": "A", "labels": ["Doubt"]}"#);
        assert!(
            e.contains("result 2: the text at 3-4 is \"😀\", not \"A\""),
            "{e}"
        );
        let ok = import(
            &task(r#"{"start": 3, "end": 4, "text": "😀", "labels": ["Doubt"]}"#),
            "x.json",
        )
        .unwrap();
        assert_eq!(ok.articles[0].rows.len(), 2);
        assert!(import("{}", "x.json")
            .unwrap_err()
            .to_string()
            .contains("a list of tasks"));
    }
}
