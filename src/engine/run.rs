//! What one run shares across all workers and users: the prepared plan and client settings.

use std::sync::Arc;

use crate::client::{ClientConfig, ClientShared};
use crate::plan::data::DataFile;
use crate::plan::{LoadProfile, Plan, Scenario};

use super::step::PreparedStep;

/// A task ready to run.
#[derive(Debug)]
pub struct PreparedTask {
    pub name: String,
    pub steps: Vec<PreparedStep>,
}

/// A scenario ready to run, with its tasks' cumulative weights for picking.
#[derive(Debug)]
pub struct PreparedScenario {
    pub scenario: Arc<Scenario>,
    pub on_start: Vec<PreparedStep>,
    pub tasks: Vec<PreparedTask>,
    cumulative: Vec<u64>,
    /// Every task has the same weight: a pick is one random index (no search through
    /// `cumulative`, whose cache lines a hundred-task plan would touch on every pick).
    uniform: bool,
}

impl PreparedScenario {
    /// Pick a task at random by weight.
    pub fn pick(&self) -> &PreparedTask {
        if self.uniform {
            return &self.tasks[fastrand::usize(..self.tasks.len())];
        }
        // Unequal weights: at least two tasks, each weighing at least 1.
        let total = self.cumulative.last().copied().unwrap_or(0);
        let r = fastrand::u64(0..total);
        let i = self.cumulative.partition_point(|&c| c <= r);
        &self.tasks[i.min(self.tasks.len() - 1)]
    }
}

/// Everything a run's users share (immutable during the run).
#[derive(Debug)]
pub struct RunCtx {
    pub scenarios: Vec<PreparedScenario>,
    pub client: Arc<ClientShared>,
    pub data: Option<Arc<DataFile>>,
    /// Open model: users take arrival tickets instead of looping with wait times.
    pub open: bool,
}

impl RunCtx {
    /// Prepare a plan for running against `host` (the plan's own host when `None`).
    pub fn prepare(
        plan: &Plan,
        host: Option<&str>,
        load: &LoadProfile,
        mut client: ClientConfig,
    ) -> RunCtx {
        let open = matches!(load, LoadProfile::Open { .. });
        // Kernel receive timestamps where precision matters and the generator has room: the
        // open model. In a closed loop at full speed they cost a fifth of the throughput
        // (0.96x -> 0.78x wrk's req/s against nginx), and there the generator is meant to be busy.
        client.rx_timestamps &= open;
        let base: Option<Arc<str>> = host.or(plan.host.as_deref()).map(Arc::from);
        let prep = |steps: &[crate::plan::Step]| -> Vec<PreparedStep> {
            steps
                .iter()
                .map(|s| PreparedStep::new(s, base.as_ref(), &plan.headers))
                .collect()
        };
        let mut scenarios: Vec<PreparedScenario> = plan
            .scenarios
            .iter()
            .map(|sc| {
                let tasks: Vec<PreparedTask> = sc
                    .tasks
                    .iter()
                    .map(|t| PreparedTask {
                        name: t.name.clone(),
                        steps: prep(&t.steps),
                    })
                    .collect();
                let cumulative = sc
                    .tasks
                    .iter()
                    .scan(0u64, |acc, t| {
                        *acc += u64::from(t.weight.max(1));
                        Some(*acc)
                    })
                    .collect();
                let uniform = sc
                    .tasks
                    .windows(2)
                    .all(|w| w[0].weight.max(1) == w[1].weight.max(1));
                PreparedScenario {
                    uniform,
                    scenario: sc.clone(),
                    on_start: prep(&sc.on_start),
                    tasks,
                    cumulative,
                }
            })
            .collect();
        // Every step with a fixed name gets its own statistics slot in each worker.
        let steps = scenarios.iter_mut().flat_map(|sc| {
            sc.on_start
                .iter_mut()
                .chain(sc.tasks.iter_mut().flat_map(|t| t.steps.iter_mut()))
        });
        for (slot, step) in steps.filter(|s| s.has_fixed_name()).enumerate() {
            step.set_slot(slot);
        }
        RunCtx {
            scenarios,
            client: ClientShared::new(client),
            data: plan.data.clone(),
            open,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn picks(plan: &str) -> Vec<u32> {
        let plan = crate::plan::parse(plan, Path::new("plan.toml")).unwrap();
        let load = LoadProfile::Closed {
            users: 1,
            spawn_rate: 1.0,
        };
        let ctx = RunCtx::prepare(&plan, Some("http://127.0.0.1:1"), &load, Default::default());
        let sc = &ctx.scenarios[0];
        let mut counts = vec![0u32; sc.tasks.len()];
        for _ in 0..40_000 {
            let name = &sc.pick().name;
            counts[sc.tasks.iter().position(|t| &t.name == name).unwrap()] += 1;
        }
        counts
    }

    fn task(name: &str, weight: u32) -> String {
        format!("\n[[scenarios.tasks]]\nname = \"{name}\"\nweight = {weight}\npath = \"/{name}\"\n")
    }

    #[test]
    fn tasks_are_picked_by_weight() {
        let head = "[[scenarios]]\nname = \"s\"\n";
        // Equal weights (the one-index pick) and unequal ones (the search): each task's
        // share is its weight's, within 4 standard deviations of 40 000 picks.
        for weights in [vec![1, 1, 1, 1], vec![1, 3], vec![2, 5, 2]] {
            let plan = weights
                .iter()
                .enumerate()
                .fold(head.to_string(), |p, (i, &w)| {
                    p + &task(&format!("t{i}"), w)
                });
            let counts = picks(&plan);
            let total: u32 = weights.iter().map(|&w| w.max(1)).sum();
            for (c, &w) in counts.iter().zip(&weights) {
                let p = f64::from(w.max(1)) / f64::from(total);
                let sd = (40_000.0 * p * (1.0 - p)).sqrt();
                assert!(
                    (f64::from(*c) - 40_000.0 * p).abs() < 4.0 * sd,
                    "weights {weights:?}: counts {counts:?}"
                );
            }
        }
    }
}
