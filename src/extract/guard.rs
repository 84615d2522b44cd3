//! Pages that are not the article: a paywall, a cookie-consent wall, a login form, a bot
//! challenge or an error page served (with 200) in place of the story. Storing them as versions is fine (they are what the
//! server sent); treating their text as the news is not — every figure would "disappear" and
//! come back as new on the next good fetch.

use std::sync::OnceLock;

use regex::Regex;

/// Longer texts are articles that merely mention cookies or subscriptions.
const MAX_WALL_CHARS: usize = 1500;

/// What kind of wall a text looks like, if it is short and says what walls say.
pub fn wall_kind(text: &str) -> Option<&'static str> {
    if text.chars().count() > MAX_WALL_CHARS {
        return None;
    }
    static WALLS: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    let walls = WALLS.get_or_init(|| {
        [
            ("bot-challenge", r"(?i)checking (if the site connection is secure|your browser)|verify (that )?you are (a )?human|are you a robot|enable javascript and cookies to continue|captcha|ddos protection|access denied|request unsuccessful|just a moment\.\.\."),
            ("paywall", r"(?i)subscribe (now )?to (continue|keep) reading|to continue reading|this (article|content|story) is (only )?(available )?(for|to) (subscribers|members)|already a subscriber|subscribers only|premium content|unlock (this|the full) (article|story)|start your (free )?trial|to view the full story"),
            ("login", r"(?i)(sign|log) ?in to (continue|read|view|access)|please (sign|log) ?in|you must be logged in|create (a free|an) account to (continue|read)"),
            // A server error or a missing page answered with 200 ("soft" errors).
            ("error", r"(?i)service (is )?(temporarily )?unavailable|page not found|404 not found|not found on this server|internal server error|bad gateway|gateway time-?out|too many requests|something went wrong|an (unexpected )?error (has )?occurred|try again later|down for maintenance|page (you requested )?(could not|cannot|can't) be found"),
            ("consent", r"(?i)we use cookies|cookie (consent|settings|preferences|policy)|accept (all )?cookies|manage (your )?(privacy|consent|cookies)|we value your privacy|consent to (the use of|our use of) (cookies|your data)"),
        ]
        .into_iter()
        .map(|(kind, re)| (kind, Regex::new(re).expect("static regex")))
        .collect()
    });
    walls
        .iter()
        .find(|(_, re)| re.is_match(text))
        .map(|(kind, _)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_walls() {
        assert_eq!(
            wall_kind("Subscribe now to continue reading. Already a subscriber? Log in."),
            Some("paywall")
        );
        assert_eq!(
            wall_kind("We use cookies to improve your experience. Accept all cookies"),
            Some("consent")
        );
        assert_eq!(wall_kind("Please sign in to continue."), Some("login"));
        assert_eq!(
            wall_kind("Service unavailable. Please try again later."),
            Some("error")
        );
        assert_eq!(
            wall_kind("404 Not Found. The page you requested could not be found."),
            Some("error")
        );
        assert_eq!(
            wall_kind("Just a moment... Checking your browser before accessing the site."),
            Some("bot-challenge")
        );
    }

    #[test]
    fn articles_that_mention_the_words_are_articles() {
        let article = "Regulators said the company must ask before it sets cookies. ".repeat(40);
        assert_eq!(wall_kind(&article), None);
        assert_eq!(
            wall_kind("Officials said 3,000 North Korean troops had been killed or wounded."),
            None
        );
    }
}
