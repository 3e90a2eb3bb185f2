//! Unit tests of reading a task: good numbers and parts, and a sentence for each bad input.

use super::*;

fn error(value: Value) -> String {
    task_from_value(&value).unwrap_err()
}

#[test]
fn whole_numbers_and_parts_are_read() {
    assert_eq!(task_from_value(&json!(12)), Ok(Task::Whole(12)));
    assert_eq!(task_from_value(&json!(12.0)), Ok(Task::Whole(12)));
    assert_eq!(task_from_value(&json!(" 12 ")), Ok(Task::Whole(12)));
    assert_eq!(task_from_value(&json!(u64::MAX)), Ok(Task::Whole(u64::MAX)));
    let part = json!({"n": 12, "from": 2, "to": 6});
    assert_eq!(
        task_from_value(&part),
        Ok(Task::Part {
            n: 12,
            from: 2,
            to: 6
        })
    );
    assert_eq!(task_from_value(&json!({"n": 12})), Ok(Task::Whole(12)));
    assert_eq!(
        serde_json::to_value(Task::Part {
            n: 12,
            from: 2,
            to: 6
        })
        .unwrap(),
        part
    );
    assert_eq!(serde_json::to_value(Task::Whole(7)).unwrap(), json!(7));
}

#[test]
fn bad_numbers_are_refused_with_a_sentence() {
    assert_eq!(
        error(json!(0)),
        "the number is 0, which every number divides: give 1 or more"
    );
    assert_eq!(
        error(json!(-5)),
        "the number is -5, which is negative: give 1 or more"
    );
    assert_eq!(
        error(json!(-1.5)),
        "the number is -1.5, which is negative: give 1 or more"
    );
    assert_eq!(
        error(json!(1.5)),
        "the number is 1.5, which is not a whole number"
    );
    assert!(error(json!("abc")).contains("the text \"abc\", which is not a number"));
    assert!(error(json!(null)).contains("missing (null)"));
    assert!(error(json!(true)).contains("a boolean, not a number"));
    assert!(error(json!([1])).contains("a list, not a number"));
    let beyond: Value = serde_json::from_str("18446744073709551616").unwrap();
    assert!(error(beyond).contains("beyond the largest supported number"));
    assert!(error(json!("99999999999999999999999")).contains("beyond the largest"));
    assert!(error(json!(1e18)).contains("write its digits"));
}

#[test]
fn bad_parts_are_refused_with_a_sentence() {
    assert!(error(json!({"n": 12, "from": 0, "to": 6})).contains("1 <= from <= to <= n"));
    assert!(error(json!({"n": 12, "from": 7, "to": 6})).contains("1 <= from <= to <= n"));
    assert!(error(json!({"n": 12, "from": 1, "to": 13})).contains("1 <= from <= to <= n"));
    assert!(error(json!({"n": 0})).contains("the number is 0"));
    assert!(error(json!({"n": 12, "from": 1})).contains("needs \"n\", \"from\" and \"to\""));
    assert!(error(json!({"n": 12, "step": 1})).contains("not \"step\""));
    assert!(error(json!({"n": "x", "from": 1, "to": 2})).contains("\"n\" is the text"));
}
