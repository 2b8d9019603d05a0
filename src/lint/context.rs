//! [`LintContext`]: what a rule sees (the model, the settings) and how it
//! reports.

use crate::config::model::ProxyModel;
use crate::config::Version;
use crate::source::Span;

use super::diagnostic::{Diagnostic, Severity};
use super::rule::RuleMeta;
use super::settings::Settings;

/// The context of one rule run.
pub struct LintContext<'a> {
    models: &'a [ProxyModel],
    index: usize,
    settings: &'a Settings,
    rule: &'static RuleMeta,
    severity: Option<Severity>,
    pub(crate) out: Vec<Diagnostic>,
}

impl<'a> LintContext<'a> {
    /// A context for `rule` over `models[index]`; `severity` overrides the
    /// rule's severities when set.
    pub fn new(
        models: &'a [ProxyModel],
        index: usize,
        settings: &'a Settings,
        rule: &'static RuleMeta,
        severity: Option<Severity>,
    ) -> Self {
        LintContext {
            models,
            index,
            settings,
            rule,
            severity,
            out: Vec::new(),
        }
    }

    /// The model being checked (the first one for workspace rules).
    pub fn model(&self) -> &'a ProxyModel {
        &self.models[self.index.min(self.models.len().saturating_sub(1))]
    }

    /// Every model of this run (for cross-hop rules).
    pub fn models(&self) -> &'a [ProxyModel] {
        self.models
    }

    /// The settings.
    pub fn settings(&self) -> &'a Settings {
        self.settings
    }

    /// `nginx_version` from the settings (`None` = assume newest).
    pub fn nginx_version(&self) -> Option<Version> {
        self.settings.nginx_version()
    }

    /// One memory page (for nginx's page-sized defaults).
    pub fn page_size(&self) -> u64 {
        self.settings.page_size()
    }

    /// This rule's options from the settings, or their defaults.
    pub fn options<T: Default + Clone + 'static>(&self) -> T {
        self.settings
            .options
            .get::<T>(self.rule.id)
            .cloned()
            .unwrap_or_default()
    }

    /// Report a finding at the rule's severity.
    pub fn report(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.report_at(self.rule.severity, span, message, help)
    }

    /// Report a finding at `severity` (for rules with several levels).
    pub fn report_at(
        &mut self,
        severity: Severity,
        span: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let help = help.into();
        self.out.push(Diagnostic {
            rule: self.rule.id,
            name: self.rule.name,
            severity: self.severity.unwrap_or(severity),
            span,
            message: message.into(),
            help: (!help.is_empty()).then_some(help),
        });
    }
}
