//! Unit tests of [`Comparison`]: made-up reports with chosen times, statuses, inputs and outputs.

use std::path::Path;

use serde_json::{Value, json};

use super::*;
use crate::report::compare_text::Look;

/// A report of `plugin` whose tasks are `(id, input, status, output, seconds)`, with `wall`
/// seconds of wall time.
fn report(plugin: &str, tasks: &[(u64, Value, &str, Value, f64)], wall: f64) -> SavedReport {
    let records: Vec<Value> = tasks
        .iter()
        .map(|(id, input, status, output, seconds)| {
            let mut task = json!({
                "id": id, "input": input, "status": status, "worker": 0,
                "start_seconds": 0.0, "duration_seconds": seconds,
            });
            if *status == "ok" {
                task["output"] = output.clone();
            } else {
                task["error"] = json!("failed");
            }
            task
        })
        .collect();
    let count = tasks.len();
    let text = json!({
        "format_version": 1, "quack_version": "0.1.0",
        "plugin": {"path": "p.so", "name": plugin, "version": "0.1.0"},
        "runner": {"mode": "inline", "workers": 1},
        "tasks": records,
        "summary": {"tasks": count, "ok": count, "error": 0, "crashed": 0, "timeout": 0,
                    "cancelled": 0, "wall_seconds": wall, "cpu_seconds": wall,
                    "tasks_per_second": count as f64 / wall},
    });
    SavedReport::parse(Path::new("r.json"), text.to_string().as_bytes()).expect("a valid report")
}

/// One `ok` task 0 of input 1 and output 1 taking `seconds`, in a run of `wall` seconds.
fn timed(seconds: f64, wall: f64) -> SavedReport {
    report("p", &[(0, json!(1), "ok", json!(1), seconds)], wall)
}

const RULES: Rules = Rules {
    threshold: 0.05,
    alpha: 0.05,
    noise_floor_seconds: 0.001,
    run_noise_floor_seconds: 0.05,
    few_samples_factor: 3.0,
};

/// Five reports whose task and wall times are `base` scaled by each of `jitter`.
fn five(base: f64, jitter: [f64; 5]) -> Vec<SavedReport> {
    jitter
        .iter()
        .map(|factor| timed(base * factor, base * factor * 1.1))
        .collect()
}

const JITTER_A: [f64; 5] = [1.0, 1.04, 0.97, 1.02, 0.99];
const JITTER_B: [f64; 5] = [1.01, 0.98, 1.03, 0.96, 1.0];

#[test]
fn noisy_samples_of_the_same_runs_are_no_change() {
    let comparison = Comparison::new(&five(0.1, JITTER_A), &five(0.1, JITTER_B), RULES);
    assert_eq!(comparison.verdict, Verdict::NoChange, "{comparison:#?}");
    let wall = comparison.metric("wall_seconds").unwrap();
    assert_eq!(wall.judged.change, Change::Same);
    assert!(
        wall.judged.reason.starts_with("not significant"),
        "{wall:#?}"
    );
    assert_eq!(comparison.same_time, 1);
}

#[test]
fn separated_samples_beyond_the_threshold_regress_with_the_ratio_in_words() {
    let comparison = Comparison::new(&five(0.1, JITTER_A), &five(0.2, JITTER_B), RULES);
    assert!(comparison.regressed());
    let wall = comparison.metric("wall_seconds").unwrap();
    assert_eq!(wall.judged.change, Change::Worse);
    assert!(wall.judged.words.starts_with("2.0"), "{wall:#?}");
    assert!(wall.judged.words.contains(" ± "), "{wall:#?}");
    assert!(wall.judged.words.ends_with("times slower"), "{wall:#?}");
    assert_eq!(
        comparison.metric("tasks_per_second").unwrap().judged.change,
        Change::Worse
    );
    assert_eq!(comparison.slower.len(), 1);
    assert!(
        comparison.message.starts_with("regressed: wall time 2.0"),
        "{}",
        comparison.message
    );
    assert!(comparison.message.contains("1 task slower by more than 5%"));

    let back = Comparison::new(&five(0.2, JITTER_B), &five(0.1, JITTER_A), RULES);
    assert_eq!(back.verdict, Verdict::Improved, "{}", back.message);
    assert!(back.message.contains("times faster"), "{}", back.message);
}

#[test]
fn a_significant_change_within_the_threshold_is_no_change() {
    // Every new sample is slower than every old one, but by 2% only.
    let old = five(0.1, [1.0, 1.001, 1.002, 1.003, 1.004]);
    let new = five(0.102, [1.0, 1.001, 1.002, 1.003, 1.004]);
    let comparison = Comparison::new(&old, &new, RULES);
    assert_eq!(
        comparison.verdict,
        Verdict::NoChange,
        "{}",
        comparison.message
    );
    let wall = comparison.metric("wall_seconds").unwrap();
    assert_eq!(wall.judged.change, Change::Same);
    assert!(wall.judged.reason.contains("within 5%"), "{wall:#?}");
}

#[test]
fn one_sample_a_side_judges_only_run_times_far_beyond_the_noise() {
    let noisy = Comparison::new(&[timed(0.1, 0.1)], &[timed(0.25, 0.25)], RULES);
    assert_eq!(noisy.verdict, Verdict::NoChange, "{}", noisy.message);
    assert!(!noisy.enough_samples);
    assert_eq!(noisy.too_few_samples, 1);
    let wall = noisy.metric("wall_seconds").unwrap();
    assert_eq!(wall.judged.change, Change::NotJudged);
    assert_eq!(wall.judged.words, "2.50 times slower");

    let far = Comparison::new(&[timed(0.1, 0.1)], &[timed(0.1, 0.93)], RULES);
    assert!(far.regressed(), "{}", far.message);
    assert!(
        far.message.contains("wall time 9.30 times slower"),
        "{}",
        far.message
    );
    assert!(
        far.render(Look::default())
            .contains("beyond 3x with few samples")
    );
}

#[test]
fn different_inputs_are_not_changed_outputs_and_stop_run_times_from_counting() {
    let old = report("p", &[(0, json!(0.01), "ok", json!(0.01), 0.01)], 0.01);
    let new = report("p", &[(0, json!(0.2), "ok", json!(0.2), 0.2)], 0.2);
    let comparison = Comparison::new(&[old], &[new], RULES);
    assert_eq!(comparison.different_input.len(), 1);
    assert!(comparison.output_changed.is_empty());
    assert_eq!(
        comparison.verdict,
        Verdict::NoChange,
        "{}",
        comparison.message
    );
    assert_eq!(
        comparison.metrics_not_judged.as_deref(),
        Some("the sides ran different tasks")
    );
    assert!(
        comparison
            .warnings
            .iter()
            .any(|warning| warning.starts_with("task 0's input differs (0.01 in the old report"))
    );
}

#[test]
fn statuses_and_outputs_are_judged_across_samples() {
    let ok = |output: Value| report("p", &[(0, json!(1), "ok", output, 0.1)], 0.1);
    let failed = report("p", &[(0, json!(1), "error", Value::Null, 0.1)], 0.1);
    // A failure in one new sample of five is a regression.
    let old: Vec<SavedReport> = (0..5).map(|_| ok(json!(1))).collect();
    let mut new: Vec<SavedReport> = (0..4).map(|_| ok(json!(1))).collect();
    new.push(failed.clone());
    let comparison = Comparison::new(&old, &new, RULES);
    assert_eq!(comparison.message, "regressed: 1 task changed status");
    assert_eq!(
        comparison.status_changed[0].new,
        [SavedStatus::Ok, SavedStatus::Error]
    );
    // Fixed everywhere: an improvement.
    let fixed = Comparison::new(&[failed], &[ok(json!(1))], RULES);
    assert_eq!(fixed.message, "improved: 1 task now ok");
    // An output no old sample has is a change.
    let changed = Comparison::new(&old, &[ok(json!(2))], RULES);
    assert_eq!(changed.message, "regressed: 1 task's output changed");
}

#[test]
fn missing_tasks_regress() {
    let old = report(
        "p",
        &[
            (0, json!(1), "ok", json!(1), 0.1),
            (1, json!(2), "ok", json!(2), 0.1),
        ],
        0.2,
    );
    let new = report("p", &[(0, json!(1), "ok", json!(1), 0.1)], 0.1);
    let comparison = Comparison::new(&[old], &[new], RULES);
    assert_eq!(comparison.only_in_old, [1]);
    assert_eq!(
        comparison.message,
        "regressed: 1 task missing from the new report"
    );
}

#[test]
fn tiny_tasks_are_not_judged_on_time_but_counted() {
    let old = five(0.0001, JITTER_A);
    let new = five(0.0009, JITTER_B);
    let comparison = Comparison::new(&old, &new, RULES);
    assert_eq!(comparison.under_noise_floor, 1);
    assert!(comparison.slower.is_empty());
    assert!(
        comparison
            .render(Look::default())
            .contains("note: 1 task took under 1.0 ms in both runs")
    );
}

#[test]
fn colour_only_when_asked_and_markdown_escapes_what_reports_say() {
    let comparison = Comparison::new(&five(0.1, JITTER_A), &five(0.2, JITTER_B), RULES);
    assert!(!comparison.render(Look::default()).contains('\x1b'));
    let coloured = comparison.render(Look {
        color: true,
        quiet: false,
    });
    assert!(coloured.contains("\x1b[31m"), "{coloured}");
    let markdown = comparison.markdown();
    assert!(
        markdown.starts_with("**❌ host compare: regressed: wall time 2.0"),
        "{markdown}"
    );
    assert!(markdown.contains("|:--|--:|--:|:--|"), "{markdown}");
    let piped = report("p", &[(0, json!(1), "ok", json!("a|b"), 0.1)], 0.1);
    let markdown = Comparison::new(&five(0.1, JITTER_A), &[piped], RULES).markdown();
    assert!(markdown.contains(r#"` "a\|b" `"#), "{markdown}");
}

#[test]
fn warnings_name_what_makes_times_incomparable() {
    let old = report("p", &[(0, json!(1), "ok", json!(1), 0.1)], 0.1);
    let mut new = report("q", &[(0, json!(1), "ok", json!(1), 0.1)], 0.1);
    new.runner.mode = "thread".to_owned();
    let comparison = Comparison::new(&[old], &[new], RULES);
    let warnings = comparison.warnings.join("\n");
    assert!(
        warnings.contains("different plugins (p and q)"),
        "{warnings}"
    );
    assert!(warnings.contains("different runners"), "{warnings}");
}

#[test]
fn neither_form_for_people_passes_a_terminal_control_through() {
    let old = report("p", &[(0, json!(1), "ok", json!("a"), 0.1)], 0.1);
    let hostile = report(
        "p",
        &[(
            0,
            json!(1),
            "ok",
            json!("\u{1b}]0;owned\u{7}\nforged row"),
            0.1,
        )],
        0.1,
    );
    let comparison = Comparison::new(&[old], &[hostile], RULES);
    assert_eq!(comparison.message, "regressed: 1 task's output changed");
    for text in [comparison.render(Look::default()), comparison.markdown()] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        assert!(!text.contains("\nforged row"), "{text}");
    }
}
