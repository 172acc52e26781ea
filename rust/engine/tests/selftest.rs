// SPDX-License-Identifier: GPL-2.0

//! Runs the engine self-tests (selftest.rs) on the host: the same table
//! the kernel runs as the KUnit suite `seccomp_rust_engine`.

use seccomp_engine::selftest::CASES;

#[test]
fn every_selftest_case_passes() {
    assert!(!CASES.is_empty());
    let mut failed = 0;
    for case in CASES {
        let name = case.name.to_str().expect("case names are ASCII");
        match (case.run)() {
            Ok(()) => println!("ok {name}"),
            Err(failure) => {
                failed += 1;
                println!("not ok {name}: {failure}");
            }
        }
    }
    assert_eq!(failed, 0, "{failed} self-test case(s) failed");
}

#[test]
fn case_names_are_unique_kunit_identifiers() {
    for (i, case) in CASES.iter().enumerate() {
        let name = case.name.to_bytes();
        assert!(!name.is_empty() && name.len() < 128);
        assert!(name
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
        assert!(
            CASES[..i].iter().all(|other| other.name != case.name),
            "duplicate case {:?}",
            case.name
        );
    }
}
