//! What happens to an address, and the words for it that every rendering shares: the symbol,
//! the verb and the phrase of each action, and the counts a summary reports.

use serde::{Deserialize, Serialize};

use crate::resource::ResourceKind;

/// What happens to an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    /// A new object.
    Create,
    /// An existing object without billing's marker, named by the catalog (`id`, lookup key,
    /// code): the marker is added, with any declared differences that can change in place.
    Adopt,
    /// An object whose catalog key was renamed (`moved_from`): only its marker changes, with
    /// any declared differences that can change in place.
    Move,
    /// Fields changed in place.
    Update,
    /// An archived object made active again (with any other field changes).
    Unarchive,
    /// A new object replaces the current one, which is archived.
    Replace,
    /// The object is archived.
    Archive,
    /// A promotion code is deactivated.
    Deactivate,
    /// A coupon is deleted.
    Delete,
    /// The marker is removed: the object stays in Stripe as it is, no longer managed
    /// (`billing forget`, or `on_remove = "forget"`).
    Forget,
}

impl Action {
    /// Its mark in a plan, in Terraform's idiom: `+` create, `~` update, `-/+` replace, `-`
    /// archive, deactivate or delete; `<` adopt, `>` move, `/` forget.
    pub(crate) const fn symbol(self) -> &'static str {
        match self {
            Self::Create => "+",
            Self::Adopt => "<",
            Self::Move => ">",
            Self::Forget => "/",
            Self::Update | Self::Unarchive => "~",
            Self::Replace => "-/+",
            Self::Archive | Self::Deactivate | Self::Delete => "-",
        }
    }

    /// The verb of a change to an object of `kind`: `create`, `replace`, and `reactivate` for
    /// a promotion code or portal configuration made active again (`unarchive` for others).
    pub(crate) const fn verb(self, kind: ResourceKind) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Adopt => "adopt",
            Self::Move => "move",
            Self::Forget => "forget",
            Self::Update => "update",
            Self::Unarchive if kind.deactivates() => "reactivate",
            Self::Unarchive => "unarchive",
            Self::Replace => "replace",
            Self::Archive => "archive",
            Self::Deactivate => "deactivate",
            Self::Delete => "delete",
        }
    }

    /// What happens to an object of `kind`, as a sentence about its address ends: `will be
    /// created`, `will be replaced`, `will be reactivated`.
    pub(crate) const fn phrase(self, kind: ResourceKind) -> &'static str {
        match self {
            Self::Create => "will be created",
            Self::Adopt => "will be adopted",
            Self::Move => "will be moved",
            Self::Forget => "will be forgotten (left in Stripe, no longer managed)",
            Self::Update => "will be updated in place",
            Self::Unarchive if kind.deactivates() => "will be reactivated",
            Self::Unarchive => "will be unarchived",
            Self::Replace => "will be replaced",
            Self::Archive => "will be archived",
            Self::Deactivate => "will be deactivated",
            Self::Delete => "will be deleted",
        }
    }

    /// Whether it takes the object out of use: an archive, a deactivation or a deletion.
    pub(crate) const fn removes(self) -> bool {
        matches!(self, Self::Archive | Self::Deactivate | Self::Delete)
    }
}

/// Counts of changes by what a summary line reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Summary {
    /// Existing objects taken over.
    #[serde(default)]
    pub adopt: usize,
    /// Objects at a renamed address.
    #[serde(default, rename = "move")]
    pub moved: usize,
    /// Objects left in Stripe, no longer managed.
    #[serde(default)]
    pub forget: usize,
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    /// Archived products and prices, deactivated promotion codes.
    pub archive: usize,
    /// Deleted coupons and webhook endpoints.
    pub delete: usize,
}

impl Summary {
    /// `3 to adopt, 0 to create, 1 to update, 0 to replace, 0 to archive.`: adoptions, moves,
    /// forgets and deletes only when there are some.
    pub(crate) fn line(&self) -> String {
        let parts: Vec<String> = self
            .shown()
            .map(|(verb, n)| format!("{n} to {verb}"))
            .collect();
        format!("{}.", parts.join(", "))
    }
}

impl Summary {
    /// What an apply did, in the units and order of [`Summary::line`]: `3 created, 1
    /// updated, 0 replaced, 0 archived`.
    pub(crate) fn done_line(&self) -> String {
        let past = |verb: &str| match verb {
            "forget" => "forgotten".to_owned(),
            verb if verb.ends_with('e') => format!("{verb}d"),
            verb => format!("{verb}ed"),
        };
        let parts: Vec<String> = self
            .shown()
            .map(|(verb, n)| format!("{n} {}", past(verb)))
            .collect();
        parts.join(", ")
    }

    /// The counts a summary line shows, in its order: creations, updates, replacements and
    /// archives always, the others only when there are some.
    fn shown(&self) -> impl Iterator<Item = (&'static str, usize)> {
        self.columns().into_iter().filter(|(verb, n)| {
            *n > 0 || matches!(*verb, "create" | "update" | "replace" | "archive")
        })
    }

    /// Counts a change with `action` where a summary reports it: an unarchive as an update, a
    /// deactivation as an archive.
    pub(crate) fn add(&mut self, action: Action) {
        let count = match action {
            Action::Adopt => &mut self.adopt,
            Action::Move => &mut self.moved,
            Action::Forget => &mut self.forget,
            Action::Create => &mut self.create,
            Action::Update | Action::Unarchive => &mut self.update,
            Action::Replace => &mut self.replace,
            Action::Archive | Action::Deactivate => &mut self.archive,
            Action::Delete => &mut self.delete,
        };
        *count += 1;
    }

    /// Every count with its verb, in the order of a summary table: adopt, move, create,
    /// update, replace, archive, delete, forget.
    pub(crate) fn columns(&self) -> [(&'static str, usize); 8] {
        [
            ("adopt", self.adopt),
            ("move", self.moved),
            ("create", self.create),
            ("update", self.update),
            ("replace", self.replace),
            ("archive", self.archive),
            ("delete", self.delete),
            ("forget", self.forget),
        ]
    }
}

impl FromIterator<Action> for Summary {
    fn from_iter<I: IntoIterator<Item = Action>>(actions: I) -> Self {
        let mut summary = Self::default();
        actions.into_iter().for_each(|a| summary.add(a));
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Action; 10] = [
        Action::Create,
        Action::Adopt,
        Action::Move,
        Action::Update,
        Action::Unarchive,
        Action::Replace,
        Action::Archive,
        Action::Deactivate,
        Action::Delete,
        Action::Forget,
    ];

    #[test]
    fn every_action_counts_once_under_its_own_verb_or_its_kin() {
        for action in ALL {
            let summary: Summary = [action].into_iter().collect();
            let counted: Vec<&str> = summary
                .columns()
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(verb, _)| verb)
                .collect();
            let expected = match action {
                Action::Unarchive => "update",
                Action::Deactivate => "archive",
                other => other.verb(ResourceKind::Product),
            };
            assert_eq!(counted, [expected], "{action:?}");
        }
    }

    #[test]
    fn an_apply_counts_what_it_did_in_the_plans_units() {
        let plan: Summary = [Action::Create, Action::Create, Action::Unarchive]
            .into_iter()
            .collect();
        assert_eq!(
            plan.line(),
            "2 to create, 1 to update, 0 to replace, 0 to archive."
        );
        assert_eq!(
            plan.done_line(),
            "2 created, 1 updated, 0 replaced, 0 archived"
        );
        let rare: Summary = [Action::Adopt, Action::Delete, Action::Forget]
            .into_iter()
            .collect();
        assert_eq!(
            rare.done_line(),
            "1 adopted, 0 created, 0 updated, 0 replaced, 0 archived, 1 deleted, 1 forgotten"
        );
    }

    #[test]
    fn phrases_say_what_verbs_do() {
        let code = ResourceKind::PromotionCode;
        assert_eq!(Action::Unarchive.verb(code), "reactivate");
        assert_eq!(Action::Unarchive.phrase(code), "will be reactivated");
        assert_eq!(
            Action::Unarchive.phrase(ResourceKind::Product),
            "will be unarchived"
        );
        assert_eq!(Action::Replace.phrase(code), "will be replaced");
        assert!(ALL.iter().all(|a| a.removes() == (a.symbol() == "-")));
    }
}
