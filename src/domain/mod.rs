//! Input parsed at the edge into types that are valid by construction, so handlers
//! and the database layer never see raw, unchecked strings.

pub mod mentions;
pub mod rooms;
pub mod text;

/// Trims `value` and checks its length in characters (not bytes: titles are often
/// Chinese). `field` names it in the error.
pub fn bounded_text(field: &str, value: &str, min: usize, max: usize) -> Result<String, String> {
    let value = value.trim();
    let len = value.chars().count();
    if len < min || len > max {
        return Err(if min == 0 {
            format!("{field} must be at most {max} characters")
        } else {
            format!("{field} must be {min} to {max} characters")
        });
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        // NUL is a control character: what passes here is storable too.
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(value.to_string())
}

/// A user id: an e-mail address, lower-cased.
pub fn user_id(value: &str) -> Result<String, String> {
    let v = value.trim().to_lowercase();
    let valid = v.len() <= 254
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        })
        && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(v)
    } else {
        Err(format!("`{value}` is not an e-mail address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_counts_characters_and_trims() {
        assert_eq!(bounded_text("title", "  三號線  ", 1, 3).unwrap(), "三號線");
        assert!(bounded_text("title", "三號線輸", 1, 3).is_err());
        assert!(bounded_text("title", "   ", 1, 3).is_err());
        assert!(bounded_text("title", "a\u{7}b", 1, 10).is_err());
        assert_eq!(bounded_text("description", "", 0, 10).unwrap(), "");
    }

    #[test]
    fn user_ids_are_lowercased_emails() {
        assert_eq!(user_id(" Ann@Plant.Test ").unwrap(), "ann@plant.test");
        for bad in ["ann", "@plant", "ann@", "a b@c", "a@b@c"] {
            assert!(user_id(bad).is_err(), "{bad}");
        }
    }
}
