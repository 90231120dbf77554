"""Names vulture cannot see used: each is called or read by a framework, by name or protocol.

`make lint` runs vulture over the code, the tests and the examples with this file; a new entry
says who uses the name. Everything else vulture reports is dead code: delete it.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# Python protocols: module __getattr__/__dir__ (PEP 562), metaclass hooks, context-manager exits.
__getattr__
__dir__
__call__
__instancecheck__
exc_type, exc, tb, traceback

# pydantic: model configuration and fields read by the model machinery (validators: by decorator,
# see [tool.vulture] in pyproject.toml).
model_config
ai_model  # a policy match field
allow, deny  # policy example lists

# Enum members reached by value (e.g. Intent("unknown") from policies and analyzers).
UNKNOWN

# Airflow: plugin class attributes, listener-hook and custom run-facet parameters (called by
# keyword), extra-link and trigger-resume methods, the hook method the guard replaces, and
# OpenLineage facet fields serialised by attrs.
fastapi_apps, listeners, external_views
previous_state, ti_state
_.get_link
_.guardrails_resume
_.serialize
_._run_command
_.get_conn  # a test DAG's hook overrides it
decisionId, recordId, decisionRecordId, outcomeActor, decisionSchemaURL
# Named by dotted path in configuration: the plugin by the `airflow.plugins` entry point
# (pyproject.toml), the facet function by `[openlineage] custom_run_facets`.
GuardrailsPlugin, guardrails_run_facets
_._get_schema

# Airflow's providers manager: the provider-info entry point and the connection type's hook
# (named in the provider info; Airflow reads these class attributes and methods).
get_provider_info
GuardrailsAuditHook, conn_name_attr, hook_name
_.get_ui_field_behaviour
_.get_conn

# pytest: module marks and fixtures a fixture requests only to run first; a test auth manager
# named in Airflow config, and a task of a test DAG.
pytestmark
pytest_collection_modifyitems  # a pytest hook (tests/packaging/conftest.py)
airflow_home, warehouse_module
FIXTURES  # fixtures imported into a test module from another folder's conftest
OneHiddenDagAuthManager
impact_off
max_mem, log_errors  # re2.Options attributes, read by RE2

# The CLI's command handlers, named as "module:function" strings and imported when they run
# (guardrails_core/cli.py `_handler`); a module's class swapped to keep a name (core/__init__.py).
cmd_check, cmd_hook, cmd_mcp, cmd_analyze, cmd_policy_validate, cmd_policy_test
cmd_policy_explain, cmd_audit, cmd_schema
__class__
# socketserver.ThreadingMixIn's switch: handler threads do not hold up the guard server's exit.
daemon_threads
