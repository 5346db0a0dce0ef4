use proptest::prelude::*;

use super::*;

fn n(value: u64) -> CredentialNumber {
    CredentialNumber::from_value(value).expect("a 60-bit value")
}

/// Every symbol that may stand at `position` (0-based) of the canonical 13.
fn symbols_at(position: usize) -> Vec<char> {
    let data = SYMBOLS.iter().map(|&b| char::from(b));
    if position < DATA_SYMBOLS {
        data.collect()
    } else {
        data.chain(CHECK_ONLY.iter().map(|&b| char::from(b)))
            .collect()
    }
}

fn compact(number: CredentialNumber) -> Vec<char> {
    number.to_string().chars().filter(|&c| c != '-').collect()
}

#[test]
fn displays_in_groups_of_four_with_the_check_symbol_last() {
    // Values worked by hand: 32 is "10" in base 32 and 32 mod 37 = 32, written "*".
    assert_eq!(n(0).to_string(), "0000-0000-0000-0");
    assert_eq!(n(32).to_string(), "0000-0000-0010-*");
    assert_eq!(n(33).to_string(), "0000-0000-0011-~");
    assert_eq!(n(34).to_string(), "0000-0000-0012-$");
    assert_eq!(n(35).to_string(), "0000-0000-0013-=");
    assert_eq!(n(36).to_string(), "0000-0000-0014-U");
    assert_eq!(n(37).to_string(), "0000-0000-0015-0");
    // 2^60 - 1 = 9 (mod 37).
    assert_eq!(n((1 << 60) - 1).to_string(), "ZZZZ-ZZZZ-ZZZZ-9");
}

#[test]
fn a_new_number_takes_the_top_sixty_bits_of_the_random_bytes() {
    let number = CredentialNumber::from_random(0xfedc_ba98_7654_3210u64.to_be_bytes());
    assert_eq!(number.value(), 0x0fed_cba9_8765_4321);
    assert_eq!(number.to_string(), "ZVEB-N63P-AGS1-7");
    assert_eq!(
        CredentialNumber::from_random([0xff; 8]).to_string(),
        "ZZZZ-ZZZZ-ZZZZ-9"
    );
    assert!(CredentialNumber::from_value(1 << 60).is_none());
    const { assert!(RANDOM_BITS >= 50) };
}

#[test]
fn parsing_forgives_case_separators_and_look_alike_letters() {
    let number = n(0x0fed_cba9_8765_4321);
    for typed in [
        "ZVEB-N63P-AGS1-7",
        "zveb-n63p-ags1-7",
        "ZVEBN63PAGS17",
        " zveb n63p agsI 7 ",
        "ZVEB–N63P–AGSl–7",
    ] {
        assert_eq!(CredentialNumber::parse(typed), Ok(number), "{typed}");
    }
    assert_eq!(CredentialNumber::parse("0000-0000-OO15-o"), Ok(n(37)));
    assert_eq!(CredentialNumber::parse("0000 0000 0014 u"), Ok(n(36)));
}

#[test]
fn the_url_form_encodes_check_only_punctuation_and_parses_back() {
    assert_eq!(n(32).url_segment(), "0000-0000-0010-%2A");
    assert_eq!(n(33).url_segment(), "0000-0000-0011-%7E");
    assert_eq!(n(34).url_segment(), "0000-0000-0012-%24");
    assert_eq!(n(35).url_segment(), "0000-0000-0013-%3D");
    assert_eq!(n(36).url_segment(), "0000-0000-0014-U");
    assert_eq!(n(37).url_segment(), "0000-0000-0015-0");
    for v in 32..=37 {
        assert_eq!(CredentialNumber::parse(&n(v).url_segment()), Ok(n(v)));
    }
    assert_eq!(CredentialNumber::parse("0000-0000-0010-%2a"), Ok(n(32)));
}

#[test]
fn wrong_length_and_invalid_characters_are_told_apart_from_a_mismatch() {
    assert_eq!(
        CredentialNumber::parse("ZVEB-N63P-AGS1"),
        Err(NumberError::WrongLength { found: 12 })
    );
    assert_eq!(
        CredentialNumber::parse("ZVEB-N63P-AGS1-77"),
        Err(NumberError::WrongLength { found: 14 })
    );
    assert_eq!(
        CredentialNumber::parse(""),
        Err(NumberError::WrongLength { found: 0 })
    );
    assert_eq!(
        CredentialNumber::parse("ZVEB-N6!P-AGS1-7"),
        Err(NumberError::InvalidCharacter {
            found: '!',
            position: 8
        })
    );
    // U and the check punctuation are symbols, but only in the last place.
    assert_eq!(
        CredentialNumber::parse("ZVEB-N63U-AGS1-7"),
        Err(NumberError::InvalidCharacter {
            found: 'U',
            position: 9
        })
    );
    assert_eq!(
        CredentialNumber::parse("ZVEB-N63P-AGS1-8"),
        Err(NumberError::CheckMismatch)
    );
}

#[test]
fn errors_read_as_plain_sentences() {
    assert_eq!(
        NumberError::WrongLength { found: 12 }.to_string(),
        "A credential number has 13 characters (ignoring dashes and spaces); this has 12."
    );
    assert!(NumberError::CheckMismatch.to_string().contains("mistyped"));
}

fn any_number() -> impl Strategy<Value = CredentialNumber> {
    any::<[u8; 8]>().prop_map(CredentialNumber::from_random)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_number_round_trips_through_each_written_form(number in any_number()) {
        prop_assert_eq!(CredentialNumber::parse(&number.to_string()), Ok(number));
        prop_assert_eq!(CredentialNumber::parse(&number.url_segment()), Ok(number));
        prop_assert_eq!(CredentialNumber::parse(&number.to_string().to_lowercase()), Ok(number));
        let spaced: String = compact(number).iter().map(|c| format!("{c} ")).collect();
        prop_assert_eq!(CredentialNumber::parse(&spaced), Ok(number));
    }

    #[test]
    fn every_single_mistyped_symbol_is_detected(number in any_number()) {
        let typed = compact(number);
        for position in 0..TYPED_SYMBOLS {
            for other in symbols_at(position) {
                if other == typed[position] {
                    continue;
                }
                let mut wrong = typed.clone();
                wrong[position] = other;
                let wrong: String = wrong.into_iter().collect();
                prop_assert!(
                    matches!(
                        CredentialNumber::parse(&wrong),
                        Err(NumberError::CheckMismatch | NumberError::InvalidCharacter { .. })
                    ),
                    "{} read as valid", wrong
                );
            }
        }
    }

    #[test]
    fn every_swap_of_neighbours_is_detected(number in any_number()) {
        let typed = compact(number);
        for i in 0..TYPED_SYMBOLS - 1 {
            if typed[i] == typed[i + 1] {
                continue;
            }
            let mut swapped = typed.clone();
            swapped.swap(i, i + 1);
            let swapped: String = swapped.into_iter().collect();
            prop_assert!(
                CredentialNumber::parse(&swapped).is_err(),
                "{} read as valid", swapped
            );
        }
    }
}
