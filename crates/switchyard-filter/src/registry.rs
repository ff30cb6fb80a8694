//! The registry of filter factories, and building a config's chain from its `filters:` list.

use std::sync::Arc;

use switchyard_config::{Config, ConfigIssue, FilterCheck, FilterSpec, LineIndex};

use crate::{BuildEnv, BuildError, Chain, FilterFactory, Location, NamedFilter};

/// A problem with the `filters:` list, located like any other config error (YAML path and
/// line).
pub type ChainIssue = ConfigIssue;

/// Locates a factory's build error: a settings field becomes `filters[2].retry.attempts`.
fn located(lines: &LineIndex, spec: Option<&FilterSpec>, e: BuildError) -> ChainIssue {
    let (entry, entry_line) = match spec {
        Some(s) => (s.path.clone(), s.line),
        None => ("filters".to_string(), lines.line_of("filters")),
    };
    let path = match (&e.location, spec) {
        (Location::Settings, _) => entry,
        (Location::Field(f), Some(s)) => format!("{}.{}.{f}", s.path, s.name),
        (Location::Field(f), None) => format!("{entry}.{f}"),
        (Location::Config(p), _) => p.clone(),
    };
    let line = lines.line_of(&path).or(entry_line);
    ChainIssue {
        path,
        line,
        message: e.message,
    }
}

/// Every filter the gateway knows, by name. Lives for the whole process.
#[derive(Default)]
pub struct Registry {
    factories: Vec<Box<dyn FilterFactory>>,
    planned: Vec<&'static str>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a factory; its name must be unique.
    pub fn register(&mut self, factory: Box<dyn FilterFactory>) {
        self.factories.push(factory);
    }

    /// Names that the config schema reserves for filters not built yet: naming one in
    /// `filters:` is a clear "not supported yet" error, and the default chain leaves it out.
    pub fn reserve(&mut self, name: &'static str) {
        self.planned.push(name);
    }

    fn factory(&self, name: &str) -> Option<&dyn FilterFactory> {
        self.factories
            .iter()
            .find(|f| f.name() == name)
            .map(|f| f.as_ref())
    }

    /// Builds the chain for `config`: each entry of `filters:` in order, then any required
    /// (or, for this config, implied) filter the list left out (placed after the filters it must follow). Checks unknown and
    /// duplicate names and ordering constraints, collecting every problem.
    pub fn build_chain(&self, config: &Arc<Config>) -> Result<Chain, Vec<ChainIssue>> {
        let mut issues = Vec::new();
        let mut built: Vec<NamedFilter> = Vec::new();
        let mut paths: Vec<String> = Vec::new();
        for spec in &config.filters {
            let issue = |message: String| ChainIssue {
                path: spec.path.clone(),
                line: spec.line,
                message,
            };
            let seen: Vec<&str> = built.iter().map(|f| f.name).collect();
            let factory = match self.listed(spec, config.filters_explicit, &seen) {
                Ok(Some(factory)) => factory,
                Ok(None) => continue,
                Err(message) => {
                    issues.push(issue(message));
                    continue;
                }
            };
            let env = BuildEnv {
                config,
                path: &spec.path,
            };
            match factory.build(&spec.settings, &env) {
                Ok(filter) => {
                    built.push(NamedFilter {
                        name: factory.name(),
                        filter,
                    });
                    paths.push(spec.path.clone());
                }
                Err(e) => issues.push(located(&config.lines, Some(spec), e)),
            }
        }
        for factory in self.factories.iter().filter(|f| f.implied_by(config)) {
            // Listed (built, or its error reported above): not added a second time.
            if config.filters.iter().any(|s| s.name == factory.name()) {
                continue;
            }
            let env = BuildEnv {
                config,
                path: "filters",
            };
            match factory.build(&serde_yaml::Value::Null, &env) {
                Ok(filter) => {
                    let after_pos = built
                        .iter()
                        .rposition(|f| factory.after().contains(&f.name))
                        .map_or(0, |p| p + 1);
                    // Required filters go as late as their constraints allow, but before
                    // observers such as metrics that come after every request filter.
                    let pos = built
                        .iter()
                        .position(|f| f.name == "metrics")
                        .map_or(built.len(), |m| m.max(after_pos));
                    built.insert(
                        pos,
                        NamedFilter {
                            name: factory.name(),
                            filter,
                        },
                    );
                    paths.insert(pos, "filters".to_string());
                }
                Err(e) => issues.push(located(&config.lines, None, e)),
            }
        }
        let names: Vec<&str> = built.iter().map(|f| f.name).collect();
        for (i, message) in self.misordered(&names) {
            issues.push(ChainIssue {
                path: paths[i].clone(),
                line: config.lines.line_of(&paths[i]),
                message,
            });
        }
        if issues.is_empty() {
            Ok(Chain::new(built))
        } else {
            Err(issues)
        }
    }

    /// The factory for one `filters:` entry, or what is wrong with its name: unknown, listed
    /// twice (`seen` holds the names accepted before it), or reserved for a later version
    /// (an error when the list is `explicit`; the default chain just leaves it out: `None`).
    fn listed(
        &self,
        spec: &FilterSpec,
        explicit: bool,
        seen: &[&str],
    ) -> Result<Option<&dyn FilterFactory>, String> {
        let Some(factory) = self.factory(&spec.name) else {
            if !self.planned.contains(&spec.name.as_str()) {
                return Err(format!(
                    "unknown filter `{}`; known filters: {}",
                    spec.name,
                    self.known_names().join(", ")
                ));
            }
            if explicit {
                return Err(format!(
                    "filter `{}` is not supported yet in this version of switchyard",
                    spec.name
                ));
            }
            return Ok(None);
        };
        if seen.contains(&factory.name()) {
            return Err(format!("filter `{}` is listed twice", spec.name));
        }
        Ok(Some(factory))
    }

    /// Filters placed before one they must follow: each one's position in `names` and the
    /// message.
    fn misordered(&self, names: &[&str]) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let Some(factory) = self.factory(name) else {
                continue;
            };
            for dep in factory.after() {
                if names[i + 1..].contains(dep) {
                    out.push((i, format!("filter `{name}` must come after `{dep}`")));
                }
            }
        }
        out
    }

    fn known_names(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.factories.iter().map(|f| f.name()).collect();
        v.extend(self.planned.iter().copied());
        v
    }
}

impl FilterCheck for Registry {
    /// What [`Registry::build_chain`] would find wrong with the list itself — unknown,
    /// reserved and repeated names, order, each entry's settings — found without the config,
    /// so it is reported together with the config's own errors.
    fn check_filters(
        &self,
        specs: &[FilterSpec],
        explicit: bool,
        lines: &LineIndex,
    ) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        let mut paths: Vec<&str> = Vec::new();
        for spec in specs {
            let factory = match self.listed(spec, explicit, &names) {
                Ok(Some(factory)) => factory,
                Ok(None) => continue,
                Err(message) => {
                    issues.push(ChainIssue {
                        path: spec.path.clone(),
                        line: spec.line,
                        message,
                    });
                    continue;
                }
            };
            if let Err(e) = factory.check_settings(&spec.settings) {
                issues.push(located(lines, Some(spec), e));
            }
            names.push(factory.name());
            paths.push(&spec.path);
        }
        for (i, message) in self.misordered(&names) {
            issues.push(ChainIssue {
                path: paths[i].to_owned(),
                line: lines.line_of(paths[i]),
                message,
            });
        }
        issues
    }
}
