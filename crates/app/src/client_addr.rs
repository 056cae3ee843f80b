//! Which address a request came from, for rate limits and the audit trail, when Sekisho runs
//! behind proxies that append to `X-Forwarded-For`.
//!
//! Each proxy appends the address it received the request from, so only the entries on the
//! right, written by proxies the firm runs, can be believed; anything further left was sent by
//! the client and may be forged. The client is therefore the right-most address that is not a
//! trusted proxy, walking right to left from the immediate peer (issue 16, item 5).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or one address (`192.0.2.7`).
/// Read from the configuration as its text (`trusted_proxies = ["10.0.0.0/8"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpNetwork {
    addr: IpAddr,
    prefix: u8,
}

/// Why a network could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadNetwork(pub String);

impl fmt::Display for BadNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an IP address or network (`10.0.0.0/8`, `2001:db8::/32`)",
            self.0
        )
    }
}

impl std::error::Error for BadNetwork {}

fn bits(addr: IpAddr) -> (u128, u8) {
    match addr {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

fn mask(prefix: u8, width: u8) -> u128 {
    let all = if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    match u32::from(width - prefix) {
        0 => all,
        host if host >= 128 => 0,
        host => all & !((1u128 << host) - 1),
    }
}

impl FromStr for IpNetwork {
    type Err = BadNetwork;

    fn from_str(s: &str) -> Result<IpNetwork, BadNetwork> {
        let bad = || BadNetwork(s.to_owned());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let (_, width) = bits(addr);
        let prefix = prefix.unwrap_or(width);
        if prefix > width {
            return Err(bad());
        }
        Ok(IpNetwork { addr, prefix })
    }
}

impl TryFrom<String> for IpNetwork {
    type Error = BadNetwork;

    fn try_from(s: String) -> Result<IpNetwork, BadNetwork> {
        s.parse()
    }
}

impl From<IpNetwork> for String {
    fn from(n: IpNetwork) -> String {
        n.to_string()
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl IpNetwork {
    /// Whether `ip` is in the network (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, width) = bits(self.addr);
        let (ip, ip_width) = bits(ip.to_canonical());
        let m = mask(self.prefix, width);
        width == ip_width && net & m == ip & m
    }
}

/// One `X-Forwarded-For` entry as an address (bare, or with a port as some proxies write it).
fn entry(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

/// The client's address. `forwarded` holds the `X-Forwarded-For` header values in the order
/// received, `peer` the address of the connection.
///
/// Without `trust_forwarded_for` the peer is the client. With it and no `trusted_proxies`, the
/// peer is taken to be the one proxy, and the right-most entry (the one it wrote) is the
/// client. With `trusted_proxies`, a peer outside them is the client itself (its header is
/// ignored); otherwise the entries are walked from the right past every trusted proxy, and the
/// first other address is the client (if all are proxies, the left-most one is). An entry that
/// is not an address ends the walk at the last address before it.
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded: &[&str],
    trust_forwarded_for: bool,
    trusted_proxies: &[IpNetwork],
) -> Option<IpAddr> {
    if !trust_forwarded_for {
        return peer;
    }
    let mut entries = forwarded.iter().flat_map(|v| v.split(',')).rev();
    if trusted_proxies.is_empty() {
        return entries.next().and_then(entry).or(peer);
    }
    let trusted = |ip: IpAddr| trusted_proxies.iter().any(|n| n.contains(ip));
    let mut seen = peer?;
    if !trusted(seen) {
        return Some(seen);
    }
    for e in entries {
        let Some(ip) = entry(e) else {
            return Some(seen);
        };
        seen = ip;
        if !trusted(ip) {
            return Some(ip);
        }
    }
    Some(seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| unreachable!("{s}"))
    }

    fn nets(list: &[&str]) -> Vec<IpNetwork> {
        list.iter()
            .map(|s| s.parse().unwrap_or_else(|e| unreachable!("{e}")))
            .collect()
    }

    #[test]
    fn networks_parse_and_contain() {
        let n = nets(&["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "0.0.0.0/0"]);
        assert!(n[0].contains(ip("10.200.3.4")));
        assert!(!n[0].contains(ip("11.0.0.1")));
        assert!(n[0].contains(ip("::ffff:10.1.2.3")), "IPv4-mapped");
        assert!(n[1].contains(ip("192.0.2.7")) && !n[1].contains(ip("192.0.2.8")));
        assert!(n[2].contains(ip("2001:db8:1::5")) && !n[2].contains(ip("2001:db9::1")));
        assert!(!n[2].contains(ip("10.0.0.1")));
        assert!(n[3].contains(ip("203.0.113.9")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "",
            "x/8",
            "10.0.0.0/-1",
        ] {
            assert!(bad.parse::<IpNetwork>().is_err(), "{bad}");
        }
        assert_eq!(n[1].to_string(), "192.0.2.7/32");
    }

    /// Issue 16 item 5: the left-most entry is the client's own text; it used to be believed.
    #[test]
    fn forged_left_entries_are_ignored_without_a_proxy_list() {
        let peer = Some(ip("10.0.0.2"));
        let got = client_ip(peer, &["6.6.6.6, 203.0.113.5"], true, &[]);
        assert_eq!(got, Some(ip("203.0.113.5")));
        // Two headers count as one list, in order.
        let got = client_ip(peer, &["6.6.6.6", "203.0.113.5"], true, &[]);
        assert_eq!(got, Some(ip("203.0.113.5")));
        // No header, or a broken last entry: the peer.
        assert_eq!(client_ip(peer, &[], true, &[]), peer);
        assert_eq!(client_ip(peer, &["6.6.6.6, junk"], true, &[]), peer);
        // Not trusted at all: the peer, whatever the header says.
        assert_eq!(client_ip(peer, &["203.0.113.5"], false, &[]), peer);
    }

    #[test]
    fn the_walk_stops_at_the_first_address_that_is_not_a_trusted_proxy() {
        let proxies = nets(&["10.0.0.0/8", "192.0.2.7"]);
        let peer = Some(ip("10.0.0.2"));
        // client 203.0.113.5 → CDN edge 192.0.2.7 → load balancer 10.0.0.2 → Sekisho; the
        // client forged two entries to the left.
        let header = ["1.1.1.1, 10.9.9.9, 203.0.113.5, 192.0.2.7"];
        assert_eq!(
            client_ip(peer, &header, true, &proxies),
            Some(ip("203.0.113.5"))
        );
        // A peer that is no trusted proxy is the client; its header is ignored.
        let outsider = Some(ip("198.51.100.1"));
        assert_eq!(client_ip(outsider, &header, true, &proxies), outsider);
        // Only proxies: the left-most.
        assert_eq!(
            client_ip(peer, &["10.1.1.1, 192.0.2.7"], true, &proxies),
            Some(ip("10.1.1.1"))
        );
        // Junk next to the proxies: the last address the proxies vouch for.
        assert_eq!(
            client_ip(peer, &["junk, 192.0.2.7"], true, &proxies),
            Some(ip("192.0.2.7"))
        );
        // Ports and spaces as some proxies write them.
        assert_eq!(
            client_ip(peer, &[" 203.0.113.5:4711 ,192.0.2.7"], true, &proxies),
            Some(ip("203.0.113.5"))
        );
    }
}
