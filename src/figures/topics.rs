//! Which tracked topics a sentence is about: one Aho-Corasick automaton over every topic's
//! terms, near-words and exclusions, so the cost per sentence does not grow with the number
//! of topics.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::config::Topic;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Term,
    Near(usize),
    Exclude,
}

/// Finds the sentences of a text that are on each topic.
pub struct TopicMatcher {
    automaton: Option<AhoCorasick>,
    /// For each pattern, every (topic, role) it plays.
    roles: Vec<Vec<(usize, Role)>>,
    ids: Vec<String>,
    windows: Vec<usize>,
    near_groups: Vec<usize>,
}

impl TopicMatcher {
    /// A matcher for `topics`.
    pub fn new(topics: &[Topic]) -> TopicMatcher {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut roles: Vec<Vec<(usize, Role)>> = Vec::new();
        let mut add = |phrase: &str, topic: usize, role: Role| {
            let key = phrase
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            if key.is_empty() {
                return;
            }
            let i = *index.entry(key.clone()).or_insert_with(|| {
                patterns.push(key);
                roles.push(Vec::new());
                patterns.len() - 1
            });
            roles[i].push((topic, role));
        };
        for (t, topic) in topics.iter().enumerate() {
            topic.terms.iter().for_each(|p| add(p, t, Role::Term));
            for (g, group) in topic.near.iter().enumerate() {
                group.iter().for_each(|p| add(p, t, Role::Near(g)));
            }
            topic.exclude.iter().for_each(|p| add(p, t, Role::Exclude));
        }
        let automaton = (!patterns.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .expect("topic phrases always build an automaton")
        });
        TopicMatcher {
            automaton,
            roles,
            ids: topics.iter().map(|t| t.id.clone()).collect(),
            windows: topics.iter().map(|t| t.window).collect(),
            near_groups: topics.iter().map(|t| t.near.len()).collect(),
        }
    }

    /// The ids of the topics this sentence is about, in configuration order.
    pub fn topics_in(&self, sentence: &str) -> Vec<&str> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        // Matching runs on a copy with runs of white space folded, so "North  Korean" matches.
        let folded = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
        let n = self.ids.len();
        let mut term = vec![false; n];
        let mut excluded = vec![false; n];
        // For near groups: (topic, group) → word positions where a word of the group starts.
        let mut near: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
        for m in ac.find_overlapping_iter(&folded) {
            if !whole_words(&folded, m.start(), m.end()) {
                continue;
            }
            let word = folded[..m.start()].split_whitespace().count();
            for &(t, role) in &self.roles[m.pattern().as_usize()] {
                match role {
                    Role::Term => term[t] = true,
                    Role::Exclude => excluded[t] = true,
                    Role::Near(g) => near.entry((t, g)).or_default().push(word),
                }
            }
        }
        (0..n)
            .filter(|&t| !excluded[t])
            .filter(|&t| term[t] || self.near_matches(t, &near))
            .map(|t| self.ids[t].as_str())
            .collect()
    }

    /// True when a word of every near group stands within the topic's window: some span of
    /// `window` words holds one word of each group.
    fn near_matches(&self, t: usize, near: &HashMap<(usize, usize), Vec<usize>>) -> bool {
        let groups = self.near_groups[t];
        let window = self.windows[t];
        let Some(first) = near.get(&(t, 0)) else {
            return false;
        };
        first.iter().any(|&anchor| {
            (anchor.saturating_sub(window)..=anchor).any(|start| {
                (1..groups).all(|g| {
                    near.get(&(t, g))
                        .is_some_and(|ps| ps.iter().any(|&p| p >= start && p <= start + window))
                })
            })
        })
    }
}

fn whole_words(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(id: &str, terms: &[&str], near: &[&[&str]], exclude: &[&str]) -> Topic {
        Topic {
            window: 5,
            ..Topic::new(id, terms, near, exclude)
        }
    }

    fn matcher() -> TopicMatcher {
        TopicMatcher::new(&[
            topic(
                "nk",
                &["North Korean troops"],
                &[&["North Korea", "Pyongyang"], &["soldiers", "killed"]],
                &[],
            ),
            topic("measles", &["measles"], &[], &["Kansas"]),
        ])
    }

    #[test]
    fn terms_match_case_insensitively_on_whole_words() {
        let m = matcher();
        assert_eq!(
            m.topics_in("About 3,000 NORTH KOREAN TROOPS were hurt."),
            vec!["nk"]
        );
        assert!(m.topics_in("North Korean troopships docked.").is_empty());
        assert_eq!(
            m.topics_in("Measles cases rose; North Korean troops left."),
            vec!["nk", "measles"]
        );
    }

    #[test]
    fn near_groups_must_fall_within_the_window() {
        let m = matcher();
        assert_eq!(
            m.topics_in("Pyongyang has lost 3,000 soldiers."),
            vec!["nk"]
        );
        assert!(m
            .topics_in(
                "Pyongyang said on Monday that far away in another land many soldiers marched."
            )
            .is_empty());
        assert!(m.topics_in("Pyongyang held a parade.").is_empty());
    }

    #[test]
    fn exclusions_veto_the_sentence() {
        let m = matcher();
        assert!(m.topics_in("Kansas reported 23 measles cases.").is_empty());
        assert_eq!(
            m.topics_in("Texas reported 23 measles cases."),
            vec!["measles"]
        );
    }
}
