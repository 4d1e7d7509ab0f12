//! How serious a message about the evidence is, decided in one place for
//! every command: a `note` describes a normal state of the evidence (a jbd2
//! ring overwrites the start of old transactions in normal operation); a
//! `warning` names something damaged or skipped (and makes `scan` exit 3).

/// The two grades of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
        }
    }
}

/// Messages that describe normal states, not damage.
const NOTES: &[&str] = &[
    "only its commit block survives",
    "the journal ring is empty",
];

/// The grade of a message from the lower layers.
pub fn severity(msg: &str) -> Severity {
    if NOTES.iter().any(|n| msg.contains(n)) {
        Severity::Note
    } else {
        Severity::Warning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_overwritten_in_normal_operation_is_a_note() {
        assert_eq!(
            severity("journal: transaction 346: only its commit block survives (empty, or its start was overwritten)"),
            Severity::Note
        );
        assert_eq!(
            severity("group 3: inode table at block 9 is outside the filesystem; skipped"),
            Severity::Warning
        );
    }
}
