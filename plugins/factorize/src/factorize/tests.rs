//! Unit tests of the factorizer: the seed's numbers, naive against sqrt, split and merge.

use super::*;

const NAIVE: Factorizer = Factorizer {
    method: Method::Naive,
};
const SQRT: Factorizer = Factorizer {
    method: Method::Sqrt,
};

/// The seed's four numbers and their exact outputs (see docs/peers.md).
const SEED: [(u64, &[u64]); 4] = [
    (53541233, &[1, 5501, 9733, 53541233]),
    (21235343, &[1, 21235343]),
    (
        11421443,
        &[1, 11, 383, 2711, 4213, 29821, 1038313, 11421443],
    ),
    (5423123, &[1, 5423123]),
];

#[test]
fn the_seed_numbers_give_the_seed_outputs() {
    for (n, expected) in SEED {
        assert_eq!(NAIVE.run(Task::Whole(n)).unwrap(), expected, "naive {n}");
        assert_eq!(SQRT.run(Task::Whole(n)).unwrap(), expected, "sqrt {n}");
    }
}

#[test]
fn naive_and_sqrt_agree() {
    let large = [999_983, 720_720, 1_048_576, 9_699_690, 4_000_001, 3_999_999];
    for n in (1..=2000).chain(large) {
        let naive = NAIVE.run(Task::Whole(n)).unwrap();
        assert_eq!(naive, SQRT.run(Task::Whole(n)).unwrap(), "n = {n}");
        assert!(naive.windows(2).all(|pair| pair[0] < pair[1]), "n = {n}");
    }
    for (n, from, to) in [(720, 1, 1), (720, 7, 100), (720, 720, 720), (1000, 10, 999)] {
        let part = Task::part(n, from, to).unwrap();
        assert_eq!(NAIVE.run(part), SQRT.run(part), "{n} from {from} to {to}");
    }
}

#[test]
fn sqrt_handles_numbers_the_naive_method_refuses() {
    let n = 10_000_000_019;
    let error = NAIVE.run(Task::Whole(n)).unwrap_err();
    assert_eq!(
        error,
        "10000000019 is too large for the naive method (at most 10000000000): \
         use --set method=sqrt"
    );
    let divisors = SQRT.run(Task::Whole(n)).unwrap();
    assert_eq!(divisors.first(), Some(&1));
    assert_eq!(divisors.last(), Some(&n));
    assert!(divisors.iter().all(|d| n % d == 0));
    let whole_range = Task::part(n, 1, n).unwrap();
    assert!(
        NAIVE
            .run(whole_range)
            .unwrap_err()
            .contains("too large for the naive method")
    );
}

#[test]
fn the_largest_numbers_do_not_overflow() {
    assert_eq!(naive_divisors(u64::MAX, u64::MAX - 4, u64::MAX), [u64::MAX]);
    assert_eq!(naive_divisors(10, 7, 3), Vec::<u64>::new());
    assert_eq!(NAIVE.run(Task::Whole(0)).unwrap(), Vec::<u64>::new());
    assert_eq!(SQRT.run(Task::Whole(0)).unwrap(), Vec::<u64>::new());
    let top = Task::part(u64::MAX, u64::MAX - 2, u64::MAX).unwrap();
    assert_eq!(NAIVE.run(top).unwrap(), [u64::MAX]);
}

#[test]
fn split_run_merge_equals_run() {
    for n in [
        1,
        12,
        PART_SIZE,
        PART_SIZE + 1,
        8_000_000,
        9_699_690,
        53541233,
    ] {
        let parts = NAIVE.split(Task::Whole(n));
        let results = parts.iter().map(|part| NAIVE.run(*part).unwrap()).collect();
        assert_eq!(
            NAIVE.merge(results),
            NAIVE.run(Task::Whole(n)).unwrap(),
            "n = {n}"
        );
    }
}

#[test]
fn split_cuts_whole_naive_numbers_into_contiguous_parts() {
    let n = 53541233;
    let parts = NAIVE.split(Task::Whole(n));
    assert_eq!(parts.len() as u64, n.div_ceil(PART_SIZE));
    let mut next = 1;
    for part in &parts {
        let (part_n, from, to) = part.bounds();
        assert_eq!((part_n, from), (n, next));
        assert!(to >= from && to - from < PART_SIZE);
        next = to + 1;
    }
    assert_eq!(next, n + 1);
    assert_eq!(
        NAIVE.split(Task::Whole(PART_SIZE)),
        [Task::Whole(PART_SIZE)]
    );
    assert_eq!(SQRT.split(Task::Whole(n)), [Task::Whole(n)]);
    assert_eq!(NAIVE.split(parts[3]), [parts[3]]);
    let refused = Task::Whole(NAIVE_LIMIT + 1);
    assert_eq!(NAIVE.split(refused), [refused]);
}

#[test]
fn merge_sorts_and_drops_repeats() {
    assert_eq!(NAIVE.merge(vec![vec![4, 12], vec![1, 2, 4]]), [1, 2, 4, 12]);
    assert_eq!(NAIVE.merge(Vec::new()), Vec::<u64>::new());
}

#[test]
fn the_configuration_names_a_known_method() {
    let config: Config = serde_json::from_str(r#"{"method": "sqrt"}"#).unwrap();
    assert_eq!(config.method, Method::Sqrt);
    assert_eq!(
        serde_json::from_str::<Config>("{}").unwrap().method,
        Method::Naive
    );
    let error = serde_json::from_str::<Config>(r#"{"method": "fast"}"#).unwrap_err();
    assert!(error.to_string().contains("unknown variant `fast`"));
    assert!(serde_json::from_str::<Config>(r#"{"mehtod": "sqrt"}"#).is_err());
}
