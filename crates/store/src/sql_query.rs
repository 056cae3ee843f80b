//! Building statements at run time: numbered placeholders, optional conditions and their values.

/// `($1, $2, …), ($k+1, …), …`: `rows` groups of `width` placeholders.
pub(crate) fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|i| {
            let p: Vec<String> = (1..=width).map(|k| format!("${}", i * width + k)).collect();
            format!("({})", p.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value bound into a statement assembled at run time.
pub(crate) enum Val {
    I(i64),
    S(String),
}

/// Collects `WHERE` conditions and their values, numbering placeholders as it goes.
#[derive(Default)]
pub(crate) struct Conditions {
    sql: Vec<String>,
    pub(crate) vals: Vec<Val>,
}

impl Conditions {
    /// Adds a condition; `{}` in `cond` stands for the placeholder of `val`.
    pub(crate) fn push(&mut self, cond: &str, val: Val) {
        self.vals.push(val);
        let ph = format!("${}", self.vals.len());
        self.sql.push(cond.replace("{}", &ph));
    }

    pub(crate) fn push_plain(&mut self, cond: &str) {
        self.sql.push(cond.to_owned());
    }

    pub(crate) fn next_placeholder(&self) -> String {
        format!("${}", self.vals.len() + 1)
    }

    pub(crate) fn where_clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.sql.join(" AND "))
        }
    }
}

pub(crate) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    vals: Vec<Val>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for v in vals {
        q = match v {
            Val::I(i) => q.bind(i),
            Val::S(s) => q.bind(s),
        };
    }
    q
}
