use super::*;
use crate::config::TopicMeasure;

fn topics() -> Vec<Topic> {
    let t = |id: &str, terms: &[&str], near: &[&[&str]]| Topic::new(id, terms, near, &["Kansas"]);
    let mut fires = t("la-wildfires", &["Palisades Fire"], &[]);
    fires.measures.push(TopicMeasure {
        name: "acres_burned".into(),
        words: vec!["acres".into()],
        money: false,
    });
    vec![
        t(
            "nk-troops",
            &["North Korean troops", "North Korean soldiers"],
            &[
                &["North Korea", "Pyongyang"],
                &["troops", "soldiers", "killed"],
            ],
        ),
        t("measles-texas", &["measles"], &[]),
        fires,
    ]
}

fn figures(text: &str) -> Vec<(String, String, FigureValue, Qualifier)> {
    FigureExtractor::new(&topics())
        .extract(text)
        .into_iter()
        .map(|f| (f.topic, f.measure, f.value, f.qualifier))
        .collect()
}

fn fig(
    topic: &str,
    measure: &str,
    v: f64,
    q: Qualifier,
) -> (String, String, FigureValue, Qualifier) {
    (topic.into(), measure.into(), FigureValue::Number(v), q)
}

#[test]
fn figures_with_topic_measure_and_qualifier() {
    assert_eq!(
        figures("Zelensky said as many as 4,000 North Korean troops had been killed or wounded, with only two captured alive."),
        vec![
            fig("nk-troops", "casualties", 4000.0, Qualifier::AtMost),
            fig("nk-troops", "captured", 2.0, Qualifier::Exact),
        ]
    );
    assert_eq!(
        figures("The outbreak has grown to 309 measles cases, 40 of whom have been hospitalized."),
        vec![
            fig("measles-texas", "infected", 309.0, Qualifier::Exact),
            fig("measles-texas", "hospitalized", 40.0, Qualifier::Exact),
        ]
    );
    assert_eq!(
        figures("Measles has killed one child in Texas."),
        vec![fig("measles-texas", "killed", 1.0, Qualifier::Exact)]
    );
}

#[test]
fn topic_measures_beat_units() {
    assert_eq!(
        figures("As of 9 p.m. Wednesday, the Palisades Fire had burned 15,800 acres."),
        vec![fig(
            "la-wildfires",
            "acres_burned",
            15800.0,
            Qualifier::Exact
        )]
    );
    // A unit no topic counts is not a figure.
    assert!(figures("Winds of up to 100 mph drove the Palisades Fire.").is_empty());
}

#[test]
fn silent_on_other_numbers_and_other_topics() {
    for s in [
        "North Korea began sending troops to Russia in October 2024.",
        "A 26-year-old North Korean soldier was interviewed on January 19.",
        "The city of 10,000 residents lies near the Palisades Fire.",
        "Kansas has confirmed 23 measles cases.",
        "Some 3,000 Russian troops were killed near Pokrovsk.",
    ] {
        assert!(figures(s).is_empty(), "{s:?} gave {:?}", figures(s));
    }
}

#[test]
fn sentences_are_kept_apart() {
    let text = "Pyongyang sent 12,000 soldiers in October. Mr. Kim said 3,000 died in Kursk.\nThe measles outbreak grew to 146 cases.";
    let found = FigureExtractor::new(&topics()).extract(text);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].quote, "Pyongyang sent 12,000 soldiers in October.");
    assert_eq!(found[0].measure, "deployed");
    assert_eq!(found[1].sentence, 2);
    assert_eq!(found[1].measure, "infected");
}

fn changes(old: &str, new: &str) -> Vec<(String, Option<FigureValue>, FigureValue)> {
    let x = FigureExtractor::new(&topics());
    compare(&x.extract(old), &x.extract(new))
        .into_iter()
        .map(|c| (c.figure.measure, c.old, c.figure.value))
        .collect()
}

#[test]
fn a_changed_value_is_one_figure_changed() {
    assert_eq!(
        changes(
            "Officials said 3,000 North Korean troops had been killed or wounded.",
            "Officials said 4,000 North Korean troops had been killed or wounded."
        ),
        vec![(
            "casualties".into(),
            Some(FigureValue::Number(3000.0)),
            FigureValue::Number(4000.0)
        )]
    );
}

#[test]
fn rewording_spelling_and_moves_raise_nothing() {
    assert!(changes(
        "The flames destroyed a dozen homes near the Palisades Fire.",
        "Near the Palisades Fire, the flames destroyed 12 homes."
    )
    .is_empty());
    assert!(changes(
        "Two North Korean soldiers were captured. Pyongyang said nothing.",
        "Pyongyang said nothing. 2 North Korean soldiers were captured."
    )
    .is_empty());
    assert!(changes(
        "North Korea began sending troops in October 2023, and 11,000 North Korean troops were deployed.",
        "North Korea began sending troops in October 2024, and 11,000 North Korean troops were deployed."
    )
    .is_empty());
}

#[test]
fn a_new_measure_is_a_new_figure() {
    assert_eq!(
        changes(
            "About 3,000 North Korean troops were killed or wounded.",
            "About 3,000 North Korean troops were killed or wounded. Two North Korean soldiers were captured."
        ),
        vec![("captured".into(), None, FigureValue::Number(2.0))]
    );
}

#[test]
fn ranges_change_into_numbers() {
    assert_eq!(
        changes(
            "Officials estimate that 3,000-4,000 North Korean troops have been killed or wounded.",
            "Officials estimate that some 4,700 North Korean troops have been killed or wounded."
        ),
        vec![(
            "casualties".into(),
            Some(FigureValue::Range {
                lo: 3000.0,
                hi: 4000.0
            }),
            FigureValue::Number(4700.0)
        )]
    );
}

#[test]
fn values_serialise_as_in_the_labelled_format() {
    assert_eq!(
        serde_json::to_string(&FigureValue::Number(4000.0)).unwrap(),
        "4000"
    );
    assert_eq!(
        serde_json::to_string(&FigureValue::Range { lo: 1.0, hi: 2.5 }).unwrap(),
        r#"{"lo":1,"hi":2.5}"#
    );
    let back: FigureValue = serde_json::from_str("4000").unwrap();
    assert_eq!(back, FigureValue::Number(4000.0));
    assert_eq!(
        serde_json::to_string(&FigureValue::Vague {
            vague: "thousands".into()
        })
        .unwrap(),
        r#"{"vague":"thousands"}"#
    );
    // "1.1 million" is 1100000.0000000002 in floating point: still the same figure.
    assert!(FigureValue::Number(1.1 * 1e6).same_as(&FigureValue::Number(1_100_000.0)));
    assert!(!FigureValue::Number(1_100_000.0).same_as(&FigureValue::Number(1_100_001.0)));
    assert!(FigureValue::Vague {
        vague: "thousand".into()
    }
    .same_as(&FigureValue::Vague {
        vague: "thousands".into()
    }));
    assert_eq!(format_number(4000.0), "4,000");
    assert_eq!(format_number(1234567.0), "1,234,567");
    assert_eq!(format_number(1.5), "1.5");
}

#[test]
fn a_level_the_subject_reached_takes_the_subject_measure() {
    assert_eq!(
        figures(
            "Measles cases tied to the outbreak, officials said, have climbed to more than 600."
        ),
        vec![fig("measles-texas", "infected", 600.0, Qualifier::MoreThan)]
    );
    // "Is" states a level too; "probably" does not hide it.
    assert_eq!(
        figures("The true number of measles infections in Texas is probably 2,000."),
        vec![fig("measles-texas", "infected", 2000.0, Qualifier::Exact)]
    );
    // Without a level verb the subject is not borrowed.
    assert!(
        figures("Measles cases tied to the outbreak, officials said, closed 40 schools.")
            .is_empty()
    );
}

#[test]
fn a_percentage_is_not_a_change_of_a_count() {
    let x = FigureExtractor::new(&topics());
    let old = x.extract("The outbreak has grown to 309 measles cases.");
    let new = x.extract(
        "The outbreak has grown to 309 measles cases. About 40% of measles cases are in children.",
    );
    let changes = compare(&old, &new);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].old, None, "40% is new, not 309 → 40");
    assert_eq!(changes[0].figure.unit.as_deref(), Some("percent"));
}

#[test]
fn a_verb_right_before_a_number_names_what_it_counts() {
    assert_eq!(
        figures("A strike on a Palisades Fire shelter killed 35 people and wounded 117, officials said."),
        vec![
            fig("la-wildfires", "killed", 35.0, Qualifier::Exact),
            fig("la-wildfires", "wounded", 117.0, Qualifier::Exact),
        ]
    );
}

#[test]
fn numbers_joined_in_a_list_share_the_count() {
    assert_eq!(
        figures("At least 29 people died in the Palisades Fire and nearby fires, 17 of them in Altadena and 12 in Pacific Palisades."),
        vec![
            fig("la-wildfires", "killed", 29.0, Qualifier::AtLeast),
            fig("la-wildfires", "killed", 17.0, Qualifier::Exact),
            fig("la-wildfires", "killed", 12.0, Qualifier::Exact),
        ]
    );
}

#[test]
fn a_force_of_troops_is_a_deployment() {
    assert_eq!(
        figures("More than 10,000 North Korean troops have moved into Kursk, the Pentagon said."),
        vec![fig("nk-troops", "deployed", 10000.0, Qualifier::MoreThan)]
    );
    assert_eq!(
        figures("Moscow never confirmed the North Korean troops, whom Ukraine puts at 12,000."),
        vec![fig("nk-troops", "deployed", 12000.0, Qualifier::Exact)]
    );
    // Killed troops are not a deployment.
    assert_eq!(
        figures("About 1,000 North Korean troops were killed in Kursk."),
        vec![fig("nk-troops", "killed", 1000.0, Qualifier::Approx)]
    );
}

#[test]
fn a_change_and_the_level_it_led_to_are_two_figures() {
    assert_eq!(
        figures("Measles cases in Texas rose by 36 to 259 over the past week."),
        vec![
            fig("measles-texas", "infected", 36.0, Qualifier::Exact),
            fig("measles-texas", "infected", 259.0, Qualifier::Exact),
        ]
    );
}

#[test]
fn the_predicate_after_an_apposition_names_the_count() {
    assert_eq!(
        figures("At least 31 North Korean soldiers, including five officers, were killed."),
        vec![
            fig("nk-troops", "killed", 31.0, Qualifier::AtLeast),
            fig("nk-troops", "killed", 5.0, Qualifier::Exact),
        ]
    );
    assert_eq!(
        figures("Two children in Texas, both unvaccinated, have died of measles."),
        vec![fig("measles-texas", "killed", 2.0, Qualifier::Exact)]
    );
    // A long clause after the comma is not an apposition.
    assert!(figures(
        "Lubbock, a city of about 260,000 residents near the centre of the Texas measles outbreak, opened clinics."
    )
    .is_empty());
}

#[test]
fn the_predicate_beats_a_participle_that_describes_the_count() {
    assert_eq!(
        figures(
            "About 40% of the North Korean troops deployed to Kursk have been killed or wounded."
        ),
        vec![(
            "nk-troops".to_string(),
            "casualties".to_string(),
            FigureValue::Number(40.0),
            Qualifier::Approx
        )]
    );
}

#[test]
fn an_earlier_value_of_the_same_count_shares_its_measure() {
    assert_eq!(
        figures(
            "About 2,000 North Korean soldiers have died in the war so far, up from 600 in April."
        ),
        vec![
            fig("nk-troops", "killed", 2000.0, Qualifier::Approx),
            fig("nk-troops", "killed", 600.0, Qualifier::Exact),
        ]
    );
    // Without a word of comparison, a number after a comma is on its own.
    assert_eq!(
        figures("About 2,000 North Korean soldiers have died in the war so far, in 600 villages."),
        vec![fig("nk-troops", "killed", 2000.0, Qualifier::Approx)]
    );
}

#[test]
fn counts_outside_the_built_in_measures_are_other() {
    assert_eq!(
        figures("The Palisades Fire damaged a dozen other buildings and was 45% contained."),
        vec![
            fig("la-wildfires", "other", 12.0, Qualifier::Exact),
            (
                "la-wildfires".to_string(),
                "other".to_string(),
                FigureValue::Number(45.0),
                Qualifier::Exact
            ),
        ]
    );
    // "Is" before a percentage is a property, not a level of the subject's count.
    assert!(
        figures("Two doses of the measles vaccine in Texas are 97% effective.")
            .iter()
            .all(|f| f.2 != FigureValue::Number(97.0))
    );
}

#[test]
fn a_part_of_a_counted_group_and_a_level_of_the_topic_are_figures() {
    assert_eq!(
        figures("Fewer than 10 of the 40 North Korean troops sent to the front returned home."),
        vec![
            fig("nk-troops", "other", 10.0, Qualifier::LessThan),
            fig("nk-troops", "deployed", 40.0, Qualifier::Exact),
        ]
    );
    assert_eq!(
        figures("The measles outbreak has spread to at least 10 counties."),
        vec![fig("measles-texas", "other", 10.0, Qualifier::AtLeast)]
    );
    // A level of something else in the sentence is not the topic's.
    assert!(figures("The measles clinic's budget has grown to 10 nurses.").is_empty());
}

#[test]
fn the_article_language_reads_its_numbers() {
    let x = FigureExtractor::new(&topics());
    let text = "Bis zu 4.000 North Korean troops were killed.";
    let value = |lang| x.extract_lang(text, lang)[0].value.clone();
    assert_eq!(value(Some("de")), FigureValue::Number(4000.0));
    assert_eq!(value(Some("en")), FigureValue::Number(4.0));
}

#[test]
fn a_table_run_together_into_one_sentence_is_not_read() {
    // 20,000 numbers with no sentence break: markup or a table, not prose.
    let table: String = (0..20_000)
        .map(|i| format!("{i} North Korean troops killed "))
        .collect();
    assert!(FigureExtractor::new(&topics()).extract(&table).is_empty());
    // The same words as a sentence are read.
    assert_eq!(
        figures("12 North Korean troops killed."),
        vec![fig("nk-troops", "killed", 12.0, Qualifier::Exact)]
    );
}

#[test]
fn rates_count_only_as_a_topics_own_rate_measure() {
    let mut covid = Topic::new("covid", &["Covid"], &[], &[]);
    let rate = TopicMeasure {
        name: "case_rate".into(),
        words: vec!["per 100,000".into()],
        money: false,
    };
    let plain = FigureExtractor::new(std::slice::from_ref(&covid));
    let text = "Denmark recorded 65.2 Covid cases per 100,000 people, and 400 Covid cases in all.";
    let found = plain.extract(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].value, FigureValue::Number(400.0));
    covid.measures.push(rate);
    let with_rate = FigureExtractor::new(&[covid]);
    let found = with_rate.extract(text);
    assert!(found
        .iter()
        .any(|f| f.measure == "case_rate" && f.value == FigureValue::Number(65.2)));
    // Another rate is not that measure's, nor a count: "per day" is not "per 100,000".
    let daily = with_rate.extract("Denmark recorded 300 Covid cases per day.");
    assert!(daily.is_empty(), "{daily:?}");
    // "A rate of …" is that measure's with its own words, and no count without them.
    let found = with_rate.extract(
        "Denmark had a seven-day rate of 65.2 Covid cases per 100,000 people, up from 33.8.",
    );
    let rates: Vec<&FigureValue> = found
        .iter()
        .filter(|f| f.measure == "case_rate")
        .map(|f| &f.value)
        .collect();
    assert_eq!(
        rates,
        [&FigureValue::Number(65.2), &FigureValue::Number(33.8)],
        "{found:?}"
    );
    let bare = plain.extract("Denmark had a seven-day Covid rate of 20 new cases.");
    assert!(bare.is_empty(), "{bare:?}");
}

#[test]
fn a_bracketed_tally_after_a_name_takes_the_sentences_measure() {
    let mut primary = Topic::new("primary", &["Iowa legislators"], &[], &[]);
    primary.measures.push(TopicMeasure {
        name: "endorsements".into(),
        words: vec!["endorsed".into()],
        money: false,
    });
    let x = FigureExtractor::new(&[primary]);
    let found = x.extract(
        "Among Iowa legislators who have endorsed a candidate, Amy Klobuchar (17) and Elizabeth Warren (12) lead.",
    );
    let values: Vec<_> = found
        .iter()
        .filter(|f| f.measure == "endorsements")
        .map(|f| f.value.clone())
        .collect();
    assert_eq!(
        values,
        vec![FigureValue::Number(17.0), FigureValue::Number(12.0)]
    );
}

#[test]
fn the_earlier_value_in_a_comparison_is_the_same_measure() {
    let x = FigureExtractor::new(&topics());
    let found = x.extract(
        "The daily rise in North Korean troops killed was 777 - down slightly from the record high of 799 the day before.",
    );
    let values: Vec<_> = found
        .iter()
        .map(|f| (f.value.clone(), f.measure.as_str()))
        .collect();
    assert!(
        values.contains(&(FigureValue::Number(799.0), "killed")),
        "{values:?}"
    );
}

#[test]
fn money_counts_only_for_a_topics_money_measure() {
    let mut appeal = Topic::new("appeal", &["fundraising"], &[], &[]);
    let text = "The fundraising campaign is seeking 1.3 million euros ($1.4 million) and 300 volunteers joined.";
    let without = FigureExtractor::new(std::slice::from_ref(&appeal)).extract(text);
    assert!(
        without.iter().all(|f| f.unit.is_none()),
        "money stays out: {without:?}"
    );
    appeal.measures.push(TopicMeasure {
        name: "raised".into(),
        words: vec!["seeking".into(), "raised".into()],
        money: true,
    });
    let with = FigureExtractor::new(&[appeal]).extract(text);
    let raised: Vec<_> = with
        .iter()
        .filter(|f| f.measure == "raised")
        .map(|f| (f.value.clone(), f.unit.as_deref()))
        .collect();
    assert_eq!(
        raised,
        vec![(FigureValue::Number(1_300_000.0), Some("EUR"))]
    );
    // A count is never a money measure's figure.
    assert!(with
        .iter()
        .all(|f| f.measure != "raised" || f.unit.is_some()));
}

#[test]
fn the_whole_a_part_is_taken_from_and_a_to_without_a_level_are_no_counts() {
    // "half" is the count of closed hospitals; 30 is the whole it is taken from.
    let found = figures("More than half of the 30 measles clinics have closed, officials said.");
    assert!(
        found.iter().all(|f| f.2 != FigureValue::Number(30.0)),
        "{found:?}"
    );
    // "to hundreds of buyers" is no level the arrests reached.
    let found = figures(
        "Three people were arrested in the measles vaccine fraud that sold fake cards to hundreds of buyers.",
    );
    assert!(
        found
            .iter()
            .all(|f| !matches!(&f.2, FigureValue::Vague { vague } if vague == "hundreds")),
        "{found:?}"
    );
    // A level after a verb that moves it, or opening its clause, still counts.
    assert_eq!(
        figures("Measles cases in West Texas have more than doubled in two weeks, to 146."),
        [fig("measles-texas", "infected", 146.0, Qualifier::Exact)]
    );
    assert_eq!(
        figures("The measles outbreak brought the number of cases to 159."),
        [fig("measles-texas", "infected", 159.0, Qualifier::Exact)]
    );
}

#[test]
fn common_words_for_deaths_arrests_and_hospital_stays_name_their_measure() {
    let crime = Topic::new("crime", &["police"], &[], &[]);
    let extractor = FigureExtractor::new(&[crime]);
    let measure_of = |text: &str| -> Vec<(String, FigureValue)> {
        extractor
            .extract(text)
            .into_iter()
            .map(|f| (f.measure, f.value))
            .collect()
    };
    assert_eq!(
        measure_of("Police said 22 homicides were recorded in March."),
        [("killed".to_string(), FigureValue::Number(22.0))]
    );
    assert_eq!(
        measure_of("Police took custody of three men on Sunday."),
        [("arrested".to_string(), FigureValue::Number(3.0))]
    );
    assert_eq!(
        measure_of("Police said all five crash victims were taken to a hospital."),
        [("hospitalized".to_string(), FigureValue::Number(5.0))]
    );
    assert_eq!(
        measure_of("Police warned of 43 daily admissions by next month."),
        [("hospitalized".to_string(), FigureValue::Number(43.0))]
    );
}

#[test]
fn topic_measure_words_match_their_inflections() {
    let mut jobs = Topic::new("jobs", &["Acme"], &[], &[]);
    jobs.measures.push(TopicMeasure {
        name: "layoffs".into(),
        words: vec!["cut".into(), "layoff".into()],
        money: false,
    });
    let x = FigureExtractor::new(&[jobs]);
    for text in [
        "Acme is cutting 900 jobs.",
        "Acme cuts 900 jobs.",
        "Acme announced 900 layoffs.",
        "Acme cut 900 jobs.",
    ] {
        let found = x.extract(text);
        assert!(
            found
                .iter()
                .any(|f| f.measure == "layoffs" && f.value == FigureValue::Number(900.0)),
            "{text}: {found:?}"
        );
    }
    assert_eq!(
        super::vocabulary::inflections("evacuate"),
        [["evacuate"], ["evacuates"], ["evacuated"], ["evacuating"]]
    );
    assert_eq!(
        super::vocabulary::inflections("customers"),
        [["customers"], ["customer"]]
    );
}

#[test]
fn the_measure_follows_what_the_sentence_says_about_the_count() {
    let quake = Topic::new("quake", &["earthquake"], &[], &[]);
    let x = FigureExtractor::new(&[quake]);
    let measures =
        |text: &str| -> Vec<String> { x.extract(text).into_iter().map(|f| f.measure).collect() };
    // Outages are not destruction.
    assert!(measures("The earthquake caused outages at 300 homes.").is_empty());
    assert_eq!(
        measures("The earthquake destroyed 300 homes and cut power to the city."),
        ["destroyed"]
    );
    // The fallen are the killed; a total of several kinds of loss is casualties.
    assert_eq!(
        measures("The nation is mourning 60 fallen firefighters after the earthquake."),
        ["killed"]
    );
    assert_eq!(
        measures("The earthquake's toll of 500 includes the dead, the injured and the missing."),
        ["casualties"]
    );
    // The verb outweighs the noun it follows.
    assert_eq!(
        measures("At least 12 protesters were killed after the earthquake."),
        ["killed"]
    );
}

#[test]
fn another_disease_and_a_time_long_past_are_not_the_topics() {
    let covid = Topic::new(
        "covid",
        &["Covid", "coronavirus"],
        &[&["pandemic", "virus"], &["deaths", "died", "killed"]],
        &[],
    );
    let x = FigureExtractor::new(&[covid]);
    let values =
        |text: &str| -> Vec<FigureValue> { x.extract(text).into_iter().map(|f| f.value).collect() };
    assert!(values("The 1918 flu pandemic killed 50 million people worldwide.").is_empty());
    assert!(
        values("Like Covid, the Black Death killed 25 million people in the 14th century.")
            .is_empty()
    );
    assert_eq!(
        values(
            "The coronavirus has killed 500 people, more than the 300 who died of flu last year."
        ),
        [FigureValue::Number(500.0)]
    );
    assert_eq!(
        values("Covid deaths rose to 700, while the flu virus killed 900."),
        [FigureValue::Number(700.0)]
    );
    // The topic's own disease, however written, stays the topic's.
    assert_eq!(
        values("With 240 people yet to receive a shot of COVID-19 vaccine, 12 Covid deaths were reported."),
        [FigureValue::Number(12.0)]
    );
}

#[test]
fn the_country_a_clause_names_is_the_place_its_figure_covers() {
    let europe = Topic::new(
        "covid-europe",
        &["Covid"],
        &[&["cases", "deaths"], &["Spain", "Italy", "France"]],
        &[],
    );
    let texas = Topic::new(
        "measles-texas",
        &["measles"],
        &[&["cases"], &["Texas"]],
        &[],
    );
    let x = FigureExtractor::new(&[europe, texas]);
    let scopes = |text: &str| -> Vec<(String, String)> {
        x.extract(text)
            .into_iter()
            .map(|f| (f.value.to_string(), f.scope))
            .collect()
    };
    // Two places of a topic that spans several are two claims.
    assert_eq!(
        scopes("Spain has recorded about 157,000 Covid cases and Italy 143,600."),
        [
            ("157,000".to_string(), "in Spain".to_string()),
            ("143,600".to_string(), "in Italy".to_string())
        ]
    );
    // The country of whoever says so is not the place.
    assert_eq!(
        scopes("Italy's health ministry said 143,600 Covid cases were recorded."),
        [("143,600".to_string(), String::new())]
    );
    // The one place a topic is about adds nothing.
    assert_eq!(
        scopes("Texas has recorded 400 measles cases."),
        [("400".to_string(), String::new())]
    );
}
