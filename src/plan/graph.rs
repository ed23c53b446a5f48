//! The steps as a dependency graph: a deterministic topological order, or the cycle named.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use super::change::{Change, Step};
use super::error::PlanError;
use super::request::StepId;

/// Orders steps so that each runs after its dependencies; among steps that are ready together,
/// creates come before updates before archives, then by address, then by step id.
pub(crate) fn order(steps: &[Step], changes: &[Change]) -> Result<Vec<StepId>, PlanError> {
    let mut graph: DiGraph<StepId, ()> = DiGraph::with_capacity(steps.len(), steps.len());
    let nodes: Vec<NodeIndex> = steps.iter().map(|s| graph.add_node(s.id)).collect();
    for step in steps {
        for &dep in &step.depends_on {
            graph.update_edge(nodes[dep], nodes[step.id], ());
        }
    }

    let key = |id: StepId| {
        let step = &steps[id];
        Reverse((
            step.request.rank(),
            changes[step.change].address.clone(),
            id,
        ))
    };
    let mut waiting: Vec<usize> = nodes
        .iter()
        .map(|&n| {
            graph
                .neighbors_directed(n, petgraph::Direction::Incoming)
                .count()
        })
        .collect();
    let mut ready: BinaryHeap<_> = steps
        .iter()
        .filter(|s| waiting[s.id] == 0)
        .map(|s| key(s.id))
        .collect();
    let mut out = Vec::with_capacity(steps.len());
    while let Some(Reverse((_, _, id))) = ready.pop() {
        out.push(id);
        for next in graph.neighbors_directed(nodes[id], petgraph::Direction::Outgoing) {
            let next = graph[next];
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push(key(next));
            }
        }
    }
    if out.len() == steps.len() {
        return Ok(out);
    }
    let cycle = tarjan_scc(&graph)
        .into_iter()
        .find(|component| component.len() > 1)
        .unwrap_or_default();
    let mut names: Vec<String> = cycle
        .iter()
        .rev()
        .map(|&n| {
            let step = &steps[graph[n]];
            format!("{} ({})", changes[step.change].address, step.description)
        })
        .collect();
    if let Some(first) = names.first().cloned() {
        names.push(first);
    }
    Err(PlanError::Cycle(names.join(" -> ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::product::{ProductUpdate, ProductWrite};
    use crate::plan::{Action, ObjRef};
    use crate::resource::ResourceKind;

    fn change(address: &str) -> Change {
        Change::new(
            ResourceKind::Product,
            address,
            Action::Update,
            None,
            String::new(),
            String::new(),
        )
    }

    fn step(id: StepId, change: usize, active: Option<bool>, depends_on: Vec<StepId>) -> Step {
        Step {
            id,
            change,
            description: format!("step {id}"),
            request: ProductWrite::Update {
                object: ObjRef::Id(format!("prod_{id}").into()),
                update: ProductUpdate {
                    active,
                    ..ProductUpdate::default()
                },
            }
            .into(),
            depends_on,
        }
    }

    #[test]
    fn dependencies_first_then_rank_then_address() {
        let changes = vec![change("products.b"), change("products.a")];
        let steps = vec![
            step(0, 0, Some(false), vec![]), // archive b: ranked last
            step(1, 0, None, vec![]),        // update b
            step(2, 1, None, vec![]),        // update a: same rank as b, earlier address
            step(3, 1, Some(true), vec![0]), // unarchive a, but only after archiving b
        ];
        assert_eq!(order(&steps, &changes).unwrap(), vec![2, 1, 0, 3]);
    }

    #[test]
    fn a_cycle_is_named() {
        let changes = vec![change("products.a"), change("products.b")];
        let steps = vec![step(0, 0, None, vec![1]), step(1, 1, None, vec![0])];
        let err = order(&steps, &changes).unwrap_err().to_string();
        assert!(
            err.contains("products.a (step 0)") && err.contains("products.b (step 1)"),
            "{err}"
        );
        assert!(err.contains(" -> "), "{err}");
    }
}
