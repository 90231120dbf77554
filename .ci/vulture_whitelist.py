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

# pydantic: model configuration and validators/fields read by the model machinery.
model_config
_._listify
_._listify_statement
_._expand_days
_._zone
_._regex
_._ticket
_._approval
_._fraction
ai_model  # a policy match field
allow, deny  # policy example lists

# SQLAlchemy event listeners (registered with @event.listens_for) and atexit hooks.
_durable
_session
_flush_outcomes_at_exit

# Enum members reached by value (e.g. Intent("unknown") from policies and analyzers).
UNKNOWN

# Airflow: plugin class attributes, listener hooks, extra-link and trigger-resume methods,
# the OpenLineage custom run-facet signature and facet fields serialised by attrs.
fastapi_apps, listeners, external_views
on_task_instance_success, on_task_instance_failed, previous_state
_.get_link
_.guardrails_resume
_.serialize
_._run_command
decisions_page, decisions_json
ti_state
decisionId, recordId, decisionRecordId, outcomeActor, decisionSchemaURL
_._get_schema

# pytest: module marks, fixtures requested by name, a test auth manager named in Airflow config,
# and a task of a test DAG.
pytestmark
airflow_home, warehouse_module, prefect_server, cleanup_sequence
OneHiddenDagAuthManager
impact_off
