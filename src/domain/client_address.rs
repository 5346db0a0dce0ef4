//! Who a request comes from, behind reverse proxies (issue 16, point 4). The rate limits
//! and signatures key on the client's address; behind a proxy every request's peer is
//! the proxy. `X-Forwarded-For` says who the proxy served, but anyone can send one, so
//! it is believed only from configured proxy addresses, and only as far as a chain of
//! them vouches: read from the right, the first address no trusted proxy added is the
//! client. Whatever a client writes to the left of that changes nothing.
// Addresses as plain values (`core::net`): nothing here opens a socket.
use core::net::IpAddr;

/// A network: an address and how many of its leading bits match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    fn holds(&self, ip: IpAddr) -> bool {
        match (self.address, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxies(Vec<Network>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{0}” is not an address or a network (write 10.0.0.5, 10.0.0.0/8 or fd00::/8)")]
pub struct NotANetwork(pub String);

impl Proxies {
    /// A comma-separated list of addresses and networks: "10.0.0.0/8, 192.168.1.5".
    pub fn parse(list: &str) -> Result<Proxies, NotANetwork> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                let bad = || NotANetwork(s.to_string());
                let (address, prefix) = match s.split_once('/') {
                    Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
                    None => (s, None),
                };
                let address = canonical(address.parse::<IpAddr>().map_err(|_| bad())?);
                let most = if address.is_ipv4() { 32 } else { 128 };
                let prefix = prefix.unwrap_or(most);
                if prefix > most {
                    return Err(bad());
                }
                Ok(Network { address, prefix })
            })
            .collect::<Result<_, _>>()
            .map(Proxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.holds(ip))
    }
}

/// One hop of `X-Forwarded-For`: an address, perhaps with a port ("[::1]:443",
/// "10.0.0.1:80"); anything else is not an address.
fn hop(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok().map(canonical);
    }
    let (host, port) = t.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok().map(canonical)
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the
/// `forwarded_for` headers' hops read from the right, past every trusted proxy. A hop
/// that is not an address ends the reading at the proxy that passed it on.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], proxies: &Proxies) -> IpAddr {
    let mut client = canonical(peer);
    if !proxies.trusts(client) {
        return client;
    }
    let hops = forwarded_for.iter().flat_map(|h| h.split(',')).rev();
    for text in hops {
        let Some(ip) = hop(text) else {
            return client;
        };
        client = ip;
        if !proxies.trusts(ip) {
            return client;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn lists_of_addresses_and_networks_are_read_and_bad_ones_named() {
        let p = Proxies::parse("10.0.0.0/8, 192.168.1.5 ,fd00::/8,").expect("a list");
        assert!(p.trusts(ip("10.200.3.4")) && p.trusts(ip("192.168.1.5")));
        assert!(p.trusts(ip("fd12::1")) && p.trusts(ip("::ffff:10.1.1.1")));
        assert!(!p.trusts(ip("192.168.1.6")) && !p.trusts(ip("11.0.0.1")));
        assert!(Proxies::parse("").expect("none").is_empty());
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0.1/x", "::1/129"] {
            assert_eq!(Proxies::parse(bad), Err(NotANetwork(bad.into())), "{bad}");
        }
        assert!(Proxies::parse("0.0.0.0/0")
            .expect("all")
            .trusts(ip("8.8.8.8")));
    }

    #[test]
    fn the_client_is_the_first_address_from_the_right_no_trusted_proxy_added() {
        let p = Proxies::parse("10.0.0.0/8").expect("a list");
        let at = |peer: &str, h: &[&str]| client_address(ip(peer), h, &p);
        // Straight from the internet: the header is the client's own word, ignored.
        assert_eq!(at("203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
        // Through one proxy, or two, and with a client's forged hops on the left.
        assert_eq!(at("10.0.0.2", &["203.0.113.9"]), ip("203.0.113.9"));
        assert_eq!(
            at("10.0.0.2", &["203.0.113.9, 10.0.0.3"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            at("10.0.0.2", &["1.2.3.4, 203.0.113.9", "10.0.0.3"]),
            ip("203.0.113.9")
        );
        // Ports and brackets, as some proxies write them.
        assert_eq!(at("10.0.0.2", &["203.0.113.9:5123"]), ip("203.0.113.9"));
        assert_eq!(at("10.0.0.2", &["[2001:db8::7]:443"]), ip("2001:db8::7"));
        // Nothing forwarded, or only proxies: the last proxy known.
        assert_eq!(at("10.0.0.2", &[]), ip("10.0.0.2"));
        assert_eq!(at("10.0.0.2", &["10.0.0.9"]), ip("10.0.0.9"));
        // Garbage stops the reading at the proxy that passed it on.
        assert_eq!(
            at("10.0.0.2", &["203.0.113.9, unknown, 10.0.0.3"]),
            ip("10.0.0.3")
        );
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<u32>().prop_map(|n| IpAddr::V4(n.into())),
            any::<u128>().prop_map(|n| IpAddr::V6(n.into())),
        ]
    }

    proptest! {
        /// Without trusted proxies, or from a peer that is not one, the header counts for
        /// nothing; from a proxy the answer is the peer or one of the header's hops; and
        /// no hop a client writes left of the first untrusted one changes it.
        #[test]
        fn nothing_a_client_writes_moves_the_answer(
            peer in any_ip(),
            trusted in proptest::collection::vec(any_ip(), 0..4),
            hops in proptest::collection::vec(any_ip(), 0..5),
            forged in proptest::collection::vec("[0-9a-f.:, ]{0,20}", 0..3),
        ) {
            let list = trusted.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(",");
            let proxies = Proxies::parse(&list).expect("addresses");
            let header = hops.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(", ");
            let answer = client_address(peer, &[&header], &proxies);
            if !proxies.trusts(peer) {
                prop_assert_eq!(answer, canonical(peer));
            } else {
                prop_assert!(answer == canonical(peer) || hops.iter().any(|h| canonical(*h) == answer));
            }
            if hops.iter().any(|h| !proxies.trusts(*h)) {
                let mut with_forged = forged.clone();
                with_forged.push(header.clone());
                let joined = with_forged.join(", ");
                prop_assert_eq!(client_address(peer, &[&joined], &proxies), answer);
            }
            prop_assert_eq!(client_address(peer, &[&header], &Proxies::default()), canonical(peer));
        }
    }
}
