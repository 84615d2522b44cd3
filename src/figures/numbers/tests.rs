use super::*;

/// (value, qualifier) of every number found, in order.
fn found(s: &str) -> Vec<(FigureValue, Qualifier)> {
    find_numbers(s)
        .into_iter()
        .map(|n| (n.value, n.qualifier))
        .collect()
}

fn num(v: f64, q: Qualifier) -> (FigureValue, Qualifier) {
    (FigureValue::Number(v), q)
}

#[test]
fn digits_with_separators_scales_and_spaces() {
    assert_eq!(found("4,000 troops"), vec![num(4000.0, Qualifier::Exact)]);
    assert_eq!(found("4 000 troops"), vec![num(4000.0, Qualifier::Exact)]);
    assert_eq!(
        found("1.5 million people"),
        vec![num(1_500_000.0, Qualifier::Exact)]
    );
    assert_eq!(found("12k people"), vec![num(12_000.0, Qualifier::Exact)]);
    assert_eq!(
        found("It cost 2.5bn to rebuild"),
        vec![num(2.5e9, Qualifier::Exact)]
    );
}

#[test]
fn spelled_numbers() {
    assert_eq!(found("two were captured"), vec![num(2.0, Qualifier::Exact)]);
    assert_eq!(
        found("four thousand troops"),
        vec![num(4000.0, Qualifier::Exact)]
    );
    assert_eq!(
        found("three hundred and twelve cases"),
        vec![num(312.0, Qualifier::Exact)]
    );
    assert_eq!(found("a dozen homes"), vec![num(12.0, Qualifier::Exact)]);
    assert_eq!(found("two dozen homes"), vec![num(24.0, Qualifier::Exact)]);
    assert_eq!(
        found("twenty-five people"),
        vec![num(25.0, Qualifier::Exact)]
    );
}

#[test]
fn qualifiers() {
    assert_eq!(
        found("as many as 4,000 troops"),
        vec![num(4000.0, Qualifier::AtMost)]
    );
    assert_eq!(
        found("up to 100 drones"),
        vec![num(100.0, Qualifier::AtMost)]
    );
    assert_eq!(
        found("at least 30 people"),
        vec![num(30.0, Qualifier::AtLeast)]
    );
    assert_eq!(
        found("30 people or more"),
        vec![num(30.0, Qualifier::AtLeast)]
    );
    assert_eq!(
        found("more than 5,000 structures"),
        vec![num(5000.0, Qualifier::MoreThan)]
    );
    assert_eq!(
        found("over 36,800 people"),
        vec![num(36800.0, Qualifier::MoreThan)]
    );
    assert_eq!(
        found("fewer than 10 missiles"),
        vec![num(10.0, Qualifier::LessThan)]
    );
    assert_eq!(
        found("about 3,000 troops"),
        vec![num(3000.0, Qualifier::Approx)]
    );
    assert_eq!(
        found("some 11,000 soldiers"),
        vec![num(11000.0, Qualifier::Approx)]
    );
    assert_eq!(
        found("an estimated 1,200 homes"),
        vec![num(1200.0, Qualifier::Approx)]
    );
}

#[test]
fn ranges() {
    let range = |lo: f64, hi: f64| vec![(FigureValue::Range { lo, hi }, Qualifier::Range)];
    assert_eq!(found("3,000-4,000 troops"), range(3000.0, 4000.0));
    assert_eq!(
        found("between 10,000 and 12,000 soldiers"),
        range(10000.0, 12000.0)
    );
    assert_eq!(found("from 3,000 to 4,000 troops"), range(3000.0, 4000.0));
    assert_eq!(found("3-4 million people"), range(3e6, 4e6));
}

#[test]
fn vague_quantities() {
    let vague = |w: &str| vec![(FigureValue::Vague { vague: w.into() }, Qualifier::Vague)];
    assert_eq!(found("thousands of soldiers"), vague("thousands"));
    assert_eq!(
        found("tens of thousands of people"),
        vague("tens of thousands")
    );
    assert_eq!(found("hundreds of homes"), vague("hundreds"));
    assert_eq!(found("several hundred troops"), vague("several hundred"));
    assert!(found("several of them").is_empty());
}

#[test]
fn things_that_are_not_counts() {
    for s in [
        "in 2024 the war went on",
        "on January 5 they met",
        "on Jan. 5 they met",
        "on 5 January they met",
        "at 6 a.m. the attack began",
        "at 9:30 the attack began",
        "a 25-year-old soldier",
        "a soldier aged 25",
        "it lasted two weeks",
        "in 30 years",
        "the third attack",
        "the 3rd brigade",
        "Resolution 2334 passed",
        "call 555-123-4567 now",
        "F-16 jets",
        "talks at 10 Downing Street",
        "no one was killed",
        "the one that was hit",
        "COVID-19 spread",
    ] {
        assert!(found(s).is_empty(), "{s:?} gave {:?}", found(s));
    }
}

#[test]
fn money_is_found_with_its_currency() {
    // Not a count: it carries its currency, which only a topic's money measure takes.
    let units =
        |s: &str| -> Vec<Option<String>> { find_numbers(s).into_iter().map(|n| n.unit).collect() };
    assert_eq!(units("it cost $500"), vec![Some("USD".to_string())]);
    assert_eq!(units("it cost £2bn"), vec![Some("GBP".to_string())]);
    assert_eq!(units("15 million euros"), vec![Some("EUR".to_string())]);
    assert_eq!(
        units("billions of dollars in aid"),
        vec![Some("USD".to_string())]
    );
    assert_eq!(units("500 people"), vec![None]);
}

#[test]
fn may_is_a_month_only_next_to_a_day() {
    assert_eq!(
        found("10,000 may have died"),
        vec![num(10000.0, Qualifier::Exact)]
    );
    assert!(found("on 5 May they met").is_empty());
}

#[test]
fn one_of_a_group_is_not_a_count() {
    assert_eq!(
        found("one of two captured"),
        vec![num(2.0, Qualifier::Exact)]
    );
}

#[test]
fn percentages_and_units_are_marked() {
    let n = find_numbers("turnout was 40% this time");
    assert_eq!(n[0].unit.as_deref(), Some("percent"));
    let n = find_numbers("it burned 5,000 acres");
    assert_eq!(n[0].unit.as_deref(), Some("acres"));
    let n = find_numbers("winds of 100 mph");
    assert_eq!(n[0].unit.as_deref(), Some("mph"));
}

#[test]
fn spans_point_at_the_number() {
    let s = "Officials said about 3,000 troops died.";
    let n = &find_numbers(s)[0];
    assert_eq!(&s[n.start..n.end], "3,000");
}

#[test]
fn nothing_panics_on_odd_text() {
    for s in [
        "",
        "—",
        "1,",
        ",5",
        "1.2.3.4",
        "٣٠٠٠ soldiers",
        "𝟒𝟎𝟎𝟎",
        "5—",
        "- 4 -",
        "9999999999999999999999999 people",
        "between and",
        "$",
        "3-",
    ] {
        let _ = find_numbers(s);
    }
}

#[test]
fn compounds_groups_signs_and_comparisons() {
    use FigureValue::{Number, Range};
    let values = |s: &str| -> Vec<FigureValue> {
        recognize_numbers(s).into_iter().map(|n| n.value).collect()
    };
    assert_eq!(
        values("China's population is 1 414 021 100."),
        [Number(1_414_021_100.0)]
    );
    assert_eq!(
        values("4 thousand 3 hundred and 21 boxes"),
        [Number(4321.0)]
    );
    assert_eq!(
        values("three dozens and half a dozen"),
        [Number(36.0), Number(6.0)]
    );
    assert_eq!(
        values("it fell to -9.5 and .08"),
        [Number(-9.5), Number(0.08)]
    );
    assert_eq!(values("The answer is minus five"), [Number(-5.0)]);
    // A hyphen between numbers is a range, not a sign.
    assert_eq!(
        found("3-4 boats"),
        [(Range { lo: 3.0, hi: 4.0 }, Qualifier::Range)]
    );
    assert_eq!(
        found("more than 100 and fewer than 300 boats"),
        [(
            Range {
                lo: 100.0,
                hi: 300.0
            },
            Qualifier::Range
        )]
    );
    assert_eq!(
        found("greater than or equal to 30 boats"),
        [num(30.0, Qualifier::AtLeast)]
    );
    assert_eq!(found("500 boats or less"), [num(500.0, Qualifier::AtMost)]);
    let pct = find_numbers("per cent of 210");
    assert_eq!(pct[0].unit.as_deref(), Some("percent"));
    // Numbers inside an address are not numbers of the text.
    assert!(recognize_numbers("see https://x.example/a?q=30%25%2020").is_empty());
}

/// Random sentences from the words number recognition reacts to, joined with and without
/// spaces: no combination may panic (spans that overlap, slices across characters).
#[test]
fn no_combination_of_number_words_panics() {
    const WORDS: &[&str] = &[
        "1",
        "22",
        "1,234",
        "5,00",
        "1.111,11",
        "12,34,567.89",
        "192.168.1.2",
        ".08",
        "-",
        "−",
        "/",
        "half",
        "a",
        "an",
        "dozen",
        "dozens",
        "minus",
        "negative",
        "more",
        "than",
        "or",
        "less",
        "equal",
        "to",
        "and",
        "between",
        "%",
        "percent",
        "per",
        "cent",
        "of",
        ",",
        ".",
        "—",
        "k",
        "G",
        "M",
        "bn",
        "three",
        "hundred",
        "thousand",
        "scores",
        "+1",
        "2024",
        ">",
        "<",
        "=",
        "about",
        "up",
        "from",
        "quarter",
        "naught",
        "ml",
        "km",
        "3rd",
        "é",
        "“",
        "troops",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for _ in 0..20_000 {
        let mut s = String::new();
        for _ in 0..1 + next(12) {
            s.push_str(WORDS[next(WORDS.len())]);
            if next(3) > 0 {
                s.push(' ');
            }
        }
        let found = recognize_numbers(&s);
        for n in found.iter().chain(find_numbers(&s).iter()) {
            assert!(n.start <= n.end && n.end <= s.len(), "{s:?}: {n:?}");
            assert!(
                s.is_char_boundary(n.start) && s.is_char_boundary(n.end),
                "{s:?}"
            );
        }
    }
}

#[test]
fn the_language_decides_what_a_dot_and_a_comma_mean() {
    let de = Notation::of_language(Some("de-DE"));
    assert_eq!(de, Notation::DecimalComma);
    assert_eq!(Notation::of_language(Some("en")), Notation::DecimalPoint);
    assert_eq!(Notation::of_language(None), Notation::DecimalPoint);
    let values = |s: &str, n: Notation| -> Vec<FigureValue> {
        find_numbers_in(s, n).into_iter().map(|m| m.value).collect()
    };
    assert_eq!(values("4.000 Soldaten", de), [FigureValue::Number(4000.0)]);
    assert_eq!(
        values("1.234.567,89 Euro-Cent", de),
        [FigureValue::Number(1_234_567.89)]
    );
    assert_eq!(values("1,5 Prozent", de), [FigureValue::Number(1.5)]);
    assert_eq!(
        values("4.000 troops", Notation::DecimalPoint),
        [FigureValue::Number(4.0)]
    );
}

#[test]
fn ages_set_off_by_commas_after_a_name_are_not_counts() {
    assert!(found("Hayley N. Hull, 30, Bulpitt, was arrested for retail theft.").is_empty());
    assert!(found("A male juvenile, 16, Taylorville, was arrested.").is_empty());
    // A count between commas after a lower-case word stays.
    assert_eq!(
        found("In the end, 30, not 40, were arrested."),
        vec![num(30.0, Qualifier::Exact), num(40.0, Qualifier::Exact)]
    );
}

#[test]
fn rates_denominators_and_spans_of_time_are_not_counts() {
    // The denominator goes; the rate itself stays for a topic's own rate measure.
    assert_eq!(
        found("Denmark recorded 65.2 cases per 100,000 people."),
        vec![num(65.2, Qualifier::Exact)]
    );
    assert!(found("a strict lockdown for 3 or 4 weeks").is_empty());
    assert!(found("it lasted 2 to 3 days").is_empty());
    // Two counts of people are not a span of time.
    assert_eq!(found("3 or 4 people were hurt").len(), 2);
}

#[test]
fn digits_glued_to_words_and_names_with_numbers_are_not_counts() {
    assert_eq!(
        found("16 million metric tons of CO2 in 2020"),
        vec![num(16e6, Qualifier::Exact)]
    );
    assert_eq!(
        found("about 120 A350 jets"),
        vec![num(120.0, Qualifier::Approx)]
    );
    assert!(found("according to Iowa Starting Line.2 Warren has the most").is_empty());
    assert!(found("more yes votes than Proposition 4 (property tax relief)").is_empty());
    assert!(found("cutting ongoing emissions or preventing future ones").is_empty());
}

#[test]
fn fractions_of_a_scale_and_plural_scales() {
    assert_eq!(
        found("left a quarter million people without power"),
        vec![num(250_000.0, Qualifier::Exact)]
    );
    assert_eq!(
        found("half a million people fled"),
        vec![num(500_000.0, Qualifier::Exact)]
    );
    assert_eq!(
        found("billions of users"),
        vec![(
            FigureValue::Vague {
                vague: "billions".into()
            },
            Qualifier::Vague
        )]
    );
}

#[test]
fn parts_of_a_group_named_before_are_not_counts() {
    assert!(found("the other three were released").is_empty());
    assert!(found("fourth in polls of the first two states").is_empty());
    assert_eq!(found("the 30 hostages").len(), 1);
}
