//! The firm's time zone (`pages.time_zone`, default Asia/Tokyo): every time a person reads,
//! in pages, mails, the console and the history CSV, is shown in it with the zone named; the
//! JSON API keeps RFC 3339 UTC. The zone database is compiled in (jiff's bundled tzdb), so a
//! server does not depend on the host's `/usr/share/zoneinfo`.

use sekisho_core::Timestamp;

/// A time zone by its IANA name.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl Default for Zone {
    fn default() -> Self {
        Zone::tokyo()
    }
}

impl Zone {
    /// The zone an IANA name (`Asia/Tokyo`, `UTC`, `Asia/Singapore`) names.
    pub fn parse(name: &str) -> Result<Zone, String> {
        let tz = jiff::tz::TimeZone::get(name.trim()).map_err(|_| {
            format!("pages.time_zone: unknown time zone {name:?} (an IANA name such as Asia/Tokyo)")
        })?;
        Ok(Zone {
            name: name.trim().to_owned(),
            tz,
        })
    }

    /// Japan time, the default.
    pub fn tokyo() -> Zone {
        Zone {
            name: "Asia/Tokyo".into(),
            tz: jiff::tz::TimeZone::get("Asia/Tokyo")
                .unwrap_or_else(|_| jiff::tz::TimeZone::fixed(jiff::tz::offset(9))),
        }
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn zoned(&self, t: Timestamp) -> Option<jiff::Zoned> {
        jiff::Timestamp::from_second(t.0)
            .ok()
            .map(|ts| ts.to_zoned(self.tz.clone()))
    }

    fn format(&self, t: Timestamp, pattern: &str) -> String {
        self.zoned(t)
            .map(|z| z.strftime(pattern).to_string())
            .unwrap_or_else(|| t.to_rfc3339())
    }

    /// `2026-05-28 20:26:40 (JST)`: mails.
    pub fn seconds(&self, t: Timestamp) -> String {
        self.format(t, "%Y-%m-%d %H:%M:%S (%Z)")
    }

    /// `2026-05-28 20:26 JST`: pages and the console.
    pub fn minutes(&self, t: Timestamp) -> String {
        self.format(t, "%Y-%m-%d %H:%M %Z")
    }

    /// `2026-05-28 20:26:40`, for a column whose header names the zone (the history CSV).
    pub fn plain(&self, t: Timestamp) -> String {
        self.format(t, "%Y-%m-%d %H:%M:%S")
    }

    /// The zone's abbreviation now (`JST`), for headers.
    pub fn abbreviation(&self, now: Timestamp) -> String {
        self.format(now, "%Z")
    }

    /// A `datetime-local` field's value (`2026-05-22T21:02`, read in this zone) as a time.
    pub fn local_input(&self, v: &str) -> Option<Timestamp> {
        let dt: jiff::civil::DateTime = v.trim().parse().ok()?;
        let z = dt.to_zoned(self.tz.clone()).ok()?;
        Some(Timestamp(z.timestamp().as_second()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japan_time_by_default_and_other_zones_by_name() {
        let t = Timestamp(1_779_452_540); // 2026-05-22T12:22:20Z
        let jp = Zone::default();
        assert_eq!(jp.seconds(t), "2026-05-22 21:22:20 (JST)");
        assert_eq!(jp.minutes(t), "2026-05-22 21:22 JST");
        assert_eq!(jp.plain(t), "2026-05-22 21:22:20");
        let utc = Zone::parse("UTC").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(utc.minutes(t), "2026-05-22 12:22 UTC");
        let sg = Zone::parse("Asia/Singapore").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(sg.plain(t), "2026-05-22 20:22:20");
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert_eq!(
            jp.local_input("2026-05-22T21:22"),
            Some(Timestamp(1_779_452_520))
        );
        assert_eq!(jp.local_input("nonsense"), None);
    }
}
