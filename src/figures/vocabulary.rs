//! The words figures are read with: the built-in measures and the words that signal them,
//! the nouns of a fighting force, the words of a power cut and of a list of losses, and the
//! forms a topic's own measure words are written in. Kept apart from the reading itself
//! (`measures`) so the vocabulary can grow without touching how it is used.

/// The names of the built-in measures; any other name a figure carries is a topic's own, or
/// one named after what the sentence counts.
pub fn built_in_names() -> impl Iterator<Item = &'static str> {
    BUILT_IN.iter().map(|(name, _)| *name)
}

/// The built-in measures of the labelled data's format, with the words that signal them.
/// Longer phrases win over the words inside them ("killed or wounded" over "killed").
pub(super) const BUILT_IN: &[(&str, &[&str])] = &[
    (
        "casualties",
        &[
            "casualties",
            "losses",
            "killed or wounded",
            "killed and wounded",
            "killed or injured",
            "killed and injured",
            "dead or wounded",
            "dead and wounded",
            "dead or injured",
            "dead and injured",
        ],
    ),
    (
        "killed",
        &[
            "killed",
            "dead",
            "deaths",
            "died",
            "death toll",
            "lives",
            "fatalities",
            "perished",
            "bodies",
            "drowned",
            "homicides",
            "murders",
            "murdered",
            "slain",
            "killings",
            "fallen soldiers",
            "fallen troops",
            "fallen firefighters",
            "fallen officers",
            "fallen servicemen",
            "fallen heroes",
            "fallen comrades",
        ],
    ),
    ("wounded", &["wounded", "injured", "injuries", "hurt"]),
    (
        "captured",
        &[
            "captured",
            "prisoners",
            "taken prisoner",
            "pows",
            "prisoners of war",
            "surrendered",
        ],
    ),
    ("missing", &["missing", "unaccounted for"]),
    (
        "deployed",
        &[
            "deployed",
            "sent",
            "send",
            "sends",
            "stationed",
            "dispatched",
            "sending",
            "deploying",
            "arrived",
            "moved into",
            "moved to",
            "thrown into",
            "remained on the front",
            "fighting",
        ],
    ),
    (
        "displaced",
        &[
            "displaced",
            "fled",
            "refugees",
            "forced from their homes",
            "homeless",
            "uprooted",
        ],
    ),
    (
        "evacuated",
        &[
            "evacuated",
            "evacuation orders",
            "evacuation order",
            "evacuations",
            "ordered to leave",
            "ordered to evacuate",
            "evacuate",
            "evacuees",
        ],
    ),
    (
        "arrested",
        &[
            "arrested",
            "detained",
            "arrests",
            "detentions",
            "took custody of",
            "taken into custody",
            "in custody",
        ],
    ),
    ("released", &["released", "freed"]),
    // Counts worth tracking that no built-in measure names: damage, rescues, returns,
    // exposure, containment, production.
    (
        "other",
        &[
            "damaged",
            "rescued",
            "returned",
            "deported",
            "exposed",
            "contained",
            "stranded",
            "trapped",
            "quarantined",
            "producing",
            "produced",
            "produces",
        ],
    ),
    (
        "infected",
        &[
            "cases",
            "case",
            "infected",
            "infections",
            "tested positive",
            "confirmed cases",
            "sickened",
        ],
    ),
    (
        "hospitalized",
        &[
            "hospitalized",
            "hospitalised",
            "in hospital",
            "hospitalizations",
            "hospitalisations",
            "admissions",
            "admitted",
            "taken to hospital",
            "taken to a hospital",
            "taken to the hospital",
            "treated in hospital",
            "treated at a hospital",
            "treated at hospital",
        ],
    ),
    ("vaccinated", &["vaccinated", "vaccinations", "doses"]),
    ("launched", &["launched", "launch", "launches", "fired"]),
    (
        "intercepted",
        &[
            "intercepted",
            "shot down",
            "downed",
            "stopped",
            "neutralised",
            "neutralized",
        ],
    ),
    (
        "destroyed",
        &[
            "destroyed",
            "homes",
            "structures",
            "buildings",
            "houses",
            "razed",
            "burned down",
            "levelled",
            "leveled",
        ],
    ),
];

/// Words of a power cut: homes counted beside them lost power, not their walls.
pub(super) const OUTAGE_WORDS: &[&str] = &[
    "outage",
    "outages",
    "power",
    "electricity",
    "blackout",
    "blackouts",
    "internet",
    "service",
];
/// Words for the dead and for the wounded, in a list of what a total includes.
pub(super) const KILLED_WORDS: &[&str] = &["dead", "killed", "deaths", "fatalities"];
pub(super) const WOUNDED_WORDS: &[&str] = &["injured", "wounded", "injuries", "hurt"];

/// Nouns for a fighting force: a number of them with no other measure in its clause is the
/// size of a deployment ("Ukraine puts them at 12,000 servicemen").
pub(super) const FORCE_NOUNS: &[&str] = &[
    "troops",
    "soldiers",
    "servicemen",
    "fighters",
    "personnel",
    "deminers",
    "workers",
];

/// A topic's measure word in the forms English writes it: "cut" → "cuts", "cutting"; "layoff" →
/// "layoffs"; "evacuate" → "evacuated", "evacuating"; "customers" → "customer". Only words of
/// letters are inflected ("per 100,000" stays as written).
pub(super) fn inflections(word: &str) -> Vec<Vec<String>> {
    let mut forms = vec![word.to_string()];
    if word.len() < 3 || !word.chars().all(|c| c.is_ascii_lowercase()) {
        return vec![forms];
    }
    let vowel = |c: char| "aeiou".contains(c);
    let chars: Vec<char> = word.chars().collect();
    let n = chars.len();
    if let Some(stem) = word.strip_suffix("ies") {
        forms.push(format!("{stem}y"));
    } else if word.ends_with("ss") {
        forms.push(format!("{word}es"));
    } else if let Some(stem) = word.strip_suffix('s') {
        forms.push(stem.to_string());
    } else if let Some(stem) = word.strip_suffix('y').filter(|s| !s.ends_with(vowel)) {
        forms.extend([
            format!("{stem}ies"),
            format!("{stem}ied"),
            format!("{word}ing"),
        ]);
    } else if let Some(stem) = word.strip_suffix('e') {
        forms.extend([format!("{word}s"), format!("{word}d"), format!("{stem}ing")]);
    } else if !word.ends_with("ed") && !word.ends_with("ing") {
        let ends_sibilant = ["sh", "ch", "x", "z"].iter().any(|e| word.ends_with(e));
        forms.push(format!("{word}{}", if ends_sibilant { "es" } else { "s" }));
        // "cut" → "cutting": a short word ending consonant-vowel-consonant doubles its last.
        let doubles = n <= 4
            && !vowel(chars[n - 1])
            && !"wxy".contains(chars[n - 1])
            && vowel(chars[n - 2])
            && !vowel(chars[n - 3]);
        let stem = if doubles {
            format!("{word}{}", chars[n - 1])
        } else {
            word.to_string()
        };
        forms.extend([format!("{stem}ed"), format!("{stem}ing")]);
    }
    forms.into_iter().map(|f| vec![f]).collect()
}
