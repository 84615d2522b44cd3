//! The guard against server-side request forgery: figwatch follows links that strangers put in
//! feeds, so by default it refuses to connect to loopback, private, link-local, unspecified and
//! other non-public addresses. The address is checked after DNS resolution (a public name that
//! resolves to 10.0.0.5 is refused) and on every redirect. `[fetch] allow_private` lifts the
//! guard; `[fetch] allow_hosts` lifts it for the hosts named there, matched exactly — a source
//! is not trusted merely because it is configured, since its feed can link anywhere.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use url::{Host, Url};

/// Which hosts and addresses may be fetched.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow_private: bool,
    /// Lower-case host names and IP addresses in their canonical text form.
    allow_hosts: HashSet<String>,
}

/// A connection refused by the guard; the message says how to allow it.
#[derive(Debug, thiserror::Error)]
#[error("{host} is {what} ({ip}); figwatch does not fetch internal addresses unless [fetch] allow_private = true or the host is in [fetch] allow_hosts")]
pub struct Refused {
    /// The host asked for.
    pub host: String,
    /// The address it resolved to.
    pub ip: IpAddr,
    /// What kind of address that is ("a loopback address").
    pub what: &'static str,
}

impl AddressPolicy {
    /// Refuses internal addresses unless `allow_private`, except the hosts of `allow_hosts`.
    pub fn new(allow_private: bool, allow_hosts: &[String]) -> AddressPolicy {
        AddressPolicy {
            allow_private,
            allow_hosts: allow_hosts.iter().map(|h| canonical_host(h)).collect(),
        }
    }

    fn allows_host(&self, host: &str) -> bool {
        self.allow_private || self.allow_hosts.contains(&canonical_host(host))
    }

    /// Checks a URL whose host is an IP address (those are never resolved, so the resolver
    /// cannot see them). Host names pass here and are checked when they are resolved.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        let host = url.host_str().unwrap_or_default();
        if self.allows_host(host) {
            return Ok(());
        }
        match non_public(ip) {
            Some(what) => Err(Refused {
                host: host.to_string(),
                ip,
                what,
            }),
            None => Ok(()),
        }
    }

    /// Every address of `host` must be public (or the host allowed): for a target handed to a
    /// proxy, which may connect to any of them.
    pub fn check_every(&self, host: &str, addrs: &[SocketAddr]) -> Result<(), Refused> {
        if self.allows_host(host) {
            return Ok(());
        }
        for a in addrs {
            if let Some(what) = non_public(a.ip()) {
                return Err(Refused {
                    host: host.to_string(),
                    ip: a.ip(),
                    what,
                });
            }
        }
        Ok(())
    }

    /// The addresses of `host` that may be used; an error when none may.
    pub fn filter(&self, host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
        if self.allows_host(host) {
            return Ok(addrs);
        }
        let mut refused = None;
        let allowed: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| match non_public(a.ip()) {
                Some(what) => {
                    refused.get_or_insert((a.ip(), what));
                    false
                }
                None => true,
            })
            .collect();
        match (allowed.is_empty(), refused) {
            (true, Some((ip, what))) => Err(Refused {
                host: host.to_string(),
                ip,
                what,
            }),
            _ => Ok(allowed),
        }
    }
}

/// `localhost.` and `LocalHost` are one host; `[::1]` and `::1` are one address.
fn canonical_host(host: &str) -> String {
    let h = host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    match h.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => h,
    }
}

/// What kind of non-public address `ip` is, or `None` for a public one.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            // An IPv4 address carried in IPv6 (mapped, compatible, NAT64, 6to4) reaches that
            // IPv4 host: it is as public as the address it carries.
            Some(v4) => non_public_v4(v4).or_else(|| non_public_v6(v6)),
            None => non_public_v6(v6),
        },
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`) or 6to4 (`2002::/16`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let last = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(v4)
    } else if (s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified())
        || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
    {
        Some(last(s[6], s[7]))
    } else if s[0] == 0x2002 {
        Some(last(s[1], s[2]))
    } else {
        None
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("a benchmarking address (198.18.0.0/15)")
    } else if a == 192 && b == 0 && c == 0 {
        Some("an IETF protocol address (192.0.0.0/24)")
    } else if (a, b, c) == (192, 0, 2) || (a, b, c) == (198, 51, 100) || (a, b, c) == (203, 0, 113)
    {
        Some("a documentation address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else {
        None
    }
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a private (unique local) address")
    } else if first & 0xffc0 == 0xfec0 {
        Some("a site-local address")
    } else if first == 0x2001 && ip.segments()[1] == 0x0db8 {
        Some("a documentation address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else {
        None
    }
}

/// reqwest's resolver, with the guard applied to what the system resolver returns.
pub struct GuardedResolver {
    /// What addresses may be connected to.
    pub policy: Arc<AddressPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = policy.filter(&host, addrs)?;
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ranges_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::7f00:1",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "::127.0.0.1",
            "::10.0.0.1",
            "fec0::1",
            "198.18.0.1",
            "198.19.255.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "2001:db8::1",
        ] {
            assert!(non_public(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "172.32.0.1",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "198.20.0.1",
            "192.0.3.1",
        ] {
            assert!(non_public(ip.parse().unwrap()).is_none(), "{ip}");
        }
    }

    #[test]
    fn ip_urls_are_checked_and_allowed_hosts_match_exactly() {
        let strict = AddressPolicy::new(false, &[]);
        let url = |u: &str| Url::parse(u).unwrap();
        let refused = strict
            .check_url(&url("http://169.254.169.254/latest/meta-data/"))
            .unwrap_err();
        assert!(refused.to_string().contains("link-local"), "{refused}");
        assert!(refused.to_string().contains("allow_private"), "{refused}");
        assert!(strict.check_url(&url("http://[::1]:8080/")).is_err());
        assert!(strict.check_url(&url("http://93.184.216.34/")).is_ok());
        assert!(
            strict.check_url(&url("http://intranet.example/")).is_ok(),
            "names are checked once resolved"
        );

        let some = AddressPolicy::new(false, &["127.0.0.1".into(), "Feeds.Example.".into()]);
        assert!(some.check_url(&url("http://127.0.0.1:9000/rss")).is_ok());
        assert!(some.check_url(&url("http://127.0.0.2:9000/admin")).is_err());
        let resolved = vec!["10.0.0.5:0".parse().unwrap()];
        assert!(some.filter("feeds.example", resolved.clone()).is_ok());
        assert!(some.filter("other.example", resolved).is_err());
        let mixed = vec![
            "10.0.0.5:0".parse().unwrap(),
            "93.184.216.34:0".parse().unwrap(),
        ];
        assert_eq!(
            strict.filter("mixed.example", mixed).unwrap(),
            vec!["93.184.216.34:0".parse::<SocketAddr>().unwrap()],
            "only the public address is used"
        );
        let open = AddressPolicy::new(true, &[]);
        assert!(open.check_url(&url("http://127.0.0.1/")).is_ok());
    }
}
