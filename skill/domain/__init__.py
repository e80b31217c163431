"""Pure domain modules: content, triage, speech. They import no SDK and no Flask."""
