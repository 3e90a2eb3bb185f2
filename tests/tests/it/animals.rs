//! Duck typing: whatever has `name` and `sound` speaks, whatever it claims to be.

use quack_tests::{plugin_arg, run};

#[test]
fn the_duck_speaks_with_the_name_it_is_given() {
    let result = run(&["run", &plugin_arg("duck"), "--set", "name=Donald"]);
    result.expect_code(0);
    assert_eq!(result.stdout, "Donald said Quack!\n");
}

#[test]
fn the_dog_speaks_with_its_default_name() {
    let result = run(&["run", &plugin_arg("dog")]);
    result.expect_code(0);
    assert_eq!(result.stdout, "Rex said Woof!\n");
}

#[test]
fn the_robot_is_no_animal_yet_it_speaks() {
    let result = run(&["run", &plugin_arg("robot"), "--config", r#"{"name": "R2"}"#]);
    result.expect_code(0);
    assert_eq!(result.stdout, "R2 said Beep!\n");
}

#[test]
fn a_mistyped_config_key_is_refused_by_the_plugin() {
    let result = run(&["run", &plugin_arg("duck"), "--set", "nmae=Donald"]);
    result.expect_code(10);
    let line = result.one_error_line();
    assert!(
        line.contains("refused its configuration") && line.contains("nmae"),
        "{line}"
    );
}

#[test]
fn a_plugin_that_is_a_workload_and_an_animal_runs_as_a_workload_and_says_so() {
    let parrot = plugin_arg("parrot");
    let result = run(&["run", &parrot]);
    result.expect_code(0);
    assert!(
        result.stdout.contains("\"hello\" -> hello hello"),
        "{result:#?}"
    );
    assert!(
        result.stderr.contains(
            "parrot is a Workload and an Animal: it runs as a Workload (--as animal makes it speak)"
        ),
        "{result:#?}"
    );
    let spoken = run(&["run", &parrot, "--as", "animal"]);
    spoken.expect_code(0);
    assert_eq!(spoken.stdout, "Polly said Squawk!\n", "{spoken:#?}");
    let refused = run(&["run", &plugin_arg("dog"), "--as", "workload"]);
    refused.expect_code(8);
    assert!(
        refused.one_error_line().contains(
            "--as workload asks for a Workload, and it is not one (missing `run(task) -> result`)"
        ),
        "{refused:#?}"
    );
}

#[test]
fn an_animal_speaks_json_lines_and_a_json_report_when_asked() {
    let duck = plugin_arg("duck");
    let lines = run(&["run", &duck, "--format", "jsonl"]);
    lines.expect_code(0);
    let speech: serde_json::Value = serde_json::from_str(lines.stdout.trim()).unwrap();
    assert_eq!(speech["type"], "speech");
    assert_eq!(speech["line"], "Daisy said Quack!");
    let report = run(&["run", &duck, "--format", "json", "--set", "name=Donald"]);
    report.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).unwrap();
    quack_tests::assert_valid_report(&report);
    assert_eq!(report["tasks"][0]["output"]["line"], "Donald said Quack!");
}

#[test]
fn options_that_mean_nothing_for_an_animal_are_refused() {
    let dog = plugin_arg("dog");
    for option in [
        &["--task", "1"][..],
        &["--mode", "thread"],
        &["--workers", "2"],
        &["--timeout", "1s"],
        &["--retries", "1"],
    ] {
        let mut args = vec!["run", &dog];
        args.extend(option);
        let result = run(&args);
        result.expect_code(2);
        let line = result.one_error_line();
        assert!(
            line.contains(&format!(
                "{} means nothing for an Animal: dog speaks once",
                option[0]
            )),
            "{line}"
        );
    }
}

#[test]
fn an_animals_report_is_that_of_a_run_of_one_inline_task() {
    let (result, report) =
        quack_tests::run_with_report(&["run", &plugin_arg("dog"), "--set", "name=Fido"]);
    result.expect_code(0);
    assert_eq!(result.stdout, "Fido said Woof!\n");
    quack_tests::assert_valid_report(&report);
    assert_eq!(report["runner"]["mode"], "inline");
    assert_eq!(report["runner"]["reason"], "inline: an Animal speaks once");
    assert_eq!(report["summary"]["ok"], 1);
    let task = &report["tasks"][0];
    assert_eq!(task["id"], 0);
    assert_eq!(task["input"], serde_json::Value::Null);
    assert_eq!(
        task["output"],
        serde_json::json!({"name": "Fido", "sound": "Woof!", "line": "Fido said Woof!"})
    );
}

#[test]
fn an_animal_whose_configuration_is_refused_still_gets_its_report() {
    let (result, report) =
        quack_tests::run_with_report(&["run", &plugin_arg("duck"), "--set", "nmae=Donald"]);
    result.expect_code(10);
    assert!(result.stdout.is_empty(), "{result:#?}");
    quack_tests::assert_valid_report(&report);
    assert_eq!(report["tasks"][0]["status"], "not-run");
    assert!(
        report["tasks"][0]["error"]
            .as_str()
            .is_some_and(|error| error.contains("nmae")),
        "{report:#}"
    );
}

#[test]
fn workers_on_slurm_mean_nothing_for_an_animal() {
    let result = run(&["run", &plugin_arg("dog"), "--slurm"]);
    result.expect_code(2);
    assert!(
        result
            .one_error_line()
            .contains("--slurm means nothing for an Animal: dog speaks once"),
        "{result:#?}"
    );
}
