use super::*;

fn topic(toml: &str) -> Vec<Topic> {
    #[derive(serde::Deserialize)]
    struct File {
        topics: Vec<Topic>,
    }
    toml::from_str::<File>(toml).unwrap().topics
}

fn rival(r: &Rivals, topic: &str, sentence: &str, number: &str) -> bool {
    let start = sentence.find(number).unwrap();
    r.about_another(sentence, topic, start, start + number.len())
}

#[test]
fn another_party_in_the_noun_phrase_or_before_the_number() {
    let r = Rivals::new(&topic(
        r#"[[topics]]
id = "nk"
name = "North Korean troops in Russia's war"
terms = ["North Korean troops"]
near = [["North Korea", "Pyongyang"], ["troops", "soldiers"]]"#,
    ));
    let s = "In December, some 11,000 North Korean troops were fighting alongside about 50,000 Russian soldiers, officials said.";
    assert!(!rival(&r, "nk", s, "11,000"));
    assert!(rival(&r, "nk", s, "50,000"));
    let s = "South Korea's military, which has about 500,000 troops, raised its alert after North Korean troops crossed.";
    assert!(rival(&r, "nk", s, "500,000"));
    let s =
        "Ukraine put Russia's losses at 1,380 soldiers and gave no figure for North Korean troops.";
    assert!(rival(&r, "nk", s, "1,380"));
    // Russia is in the topic's name: Russia deploying troops is the story.
    let s = "Russia has deployed about 11,000 troops from North Korea.";
    assert!(!rival(&r, "nk", s, "11,000"));
}

#[test]
fn another_member_of_a_named_kind() {
    let r = Rivals::new(&topic(
        r#"[[topics]]
id = "la"
name = "Los Angeles wildfires"
terms = ["Palisades Fire", "Eaton Fire"]"#,
    ));
    let s =
        "Firefighters held the Lilac Fire to 85 acres, even as the Palisades Fire kept spreading.";
    assert!(rival(&r, "la", s, "85"));
    let s = "The Eaton Fire, which destroyed 9,400 structures, is contained.";
    assert!(!rival(&r, "la", s, "9,400"));
    let s = "The Eaton Fire is the deadliest since the 2018 Camp Fire, which killed 85 people.";
    assert!(rival(&r, "la", s, "85"));
}
