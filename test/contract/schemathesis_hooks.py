"""Schemathesis hooks for test/contract/schemathesis.test.ts.

The OpenAPI document says everything about a request that a schema can say; what it cannot is
the state of this one service: which account, numbers, sender IDs, callback profiles and
gateways exist, what "now" is, and where a webhook may be sent (nowhere but 127.0.0.1 here).
Just before each request is sent, these hooks put the fixtures the test made into the places
that need them. They only replace values with ones the document allows as well (a registered
sender ID for a sender ID, a future time for a time), so a valid case stays valid; Schemathesis
re-validates every case a hook edits all the same.
"""

import json
import os
import re
from datetime import datetime, timedelta, timezone

import requests
import schemathesis

F = json.loads(os.environ["FUZZ_FIXTURES"])
RESERVED_VARIABLES = {
    "source", "recipient", "message", "keyword", "id", "kid", "operator", "circle",
    "timestamp", "description", "status", "status_trace", "parts",
}


def _operation_id(case):
    definition = getattr(case.operation, "definition", None)
    raw = getattr(definition, "raw", None) or {}
    return raw.get("operationId")


def _future():
    """A local time (the fixture account is on UTC) well after now."""
    return (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")


def _sender(i=0):
    return F["senders"][i % len(F["senders"])]


def _normal(keyword):
    return " ".join(keyword.split()).upper()


def _fix_config(body):
    """A receive configuration, pointed at this account's number, senders, profile and receiver."""
    if not isinstance(body, dict):
        return
    if "number" in body:
        body["number"] = F["number"]
    keyword = body.get("keyword")
    if isinstance(keyword, str):
        # Aliases are told apart after normalization (case, spaces), and from the keyword.
        aliases = body.get("aliases")
        if isinstance(aliases, list):
            seen = {_normal(keyword)}
            kept = []
            for alias in aliases:
                if isinstance(alias, str) and _normal(alias) not in seen:
                    seen.add(_normal(alias))
                    kept.append(alias)
            body["aliases"] = kept
        # A template starts with the keyword's words; its placeholders are named once each.
        template = body.get("template")
        if isinstance(template, str):
            names = []
            for name in re.findall(r"<([A-Za-z_][A-Za-z0-9_]*)>", template):
                if name.lower() not in RESERVED_VARIABLES and name.lower() not in names:
                    names.append(name.lower())
            body["template"] = " ".join([_normal(keyword)] + [f"<{n}>" for n in names or ["name"]])
    reply = body.get("auto_reply")
    if isinstance(reply, dict):
        if "sender" in reply:
            reply["sender"] = _sender(0)
        schedule = reply.get("schedule")
        if isinstance(schedule, dict) and "at" in schedule:
            schedule["at"] = _future()
    forward = body.get("forward")
    if isinstance(forward, dict) and isinstance(forward.get("sms"), dict) and "sender" in forward["sms"]:
        forward["sms"]["sender"] = _sender(1)
    if body.get("expiry_sender") is not None:
        body["expiry_sender"] = _sender(0)
    trigger = body.get("trigger")
    if isinstance(trigger, dict):
        if trigger.get("url") is not None:
            trigger["url"] = F["receiver"] + "/mo"
        if trigger.get("callback_profile_id") is not None:
            trigger["callback_profile_id"] = F["profileId"]
    unsubscribe = body.get("unsubscribe")
    if isinstance(unsubscribe, dict) and isinstance(unsubscribe.get("senders"), list):
        unsubscribe["senders"] = [_sender(i) for i in range(len(unsubscribe["senders"]))]
        unsubscribe["senders"] = list(dict.fromkeys(unsubscribe["senders"]))


def _fix_profile(body):
    if not isinstance(body, dict):
        return
    if "url" in body:
        body["url"] = F["receiver"] + "/hook"
    auth = body.get("auth")
    if isinstance(auth, dict) and "url" in auth:
        auth["url"] = F["receiver"] + "/token"


def _reset_profile():
    """The profile every PATCH starts from: POST, no body, no auth, no encryption, active."""
    response = requests.patch(
        f"{F['base']}/v1/{F['sid']}/callback/profiles/{F['profileId']}",
        json={"http_method": "POST", "url": F["receiver"] + "/hook", "body": None, "content_type": None,
              "headers": None, "auth": None, "enc": None, "status": "active"},
        headers={"api-key": F["apiKey"]},
        timeout=10,
    )
    response.raise_for_status()


# The lists that page by keyset, and where a cursor of each can be had (issue 18).
CURSOR_LISTS = {
    "listLogs": "/logs", "listDeliveries": "/deliveries", "listMessages": "/messages",
    "listSubscriptions": "/subscriptions", "listSubscriptionHistory": "/subscriptions/history",
    "listConsentLedger": "/subscriptions/ledger", "customerConsentHistory": "/subscriptions/ledger",
}
_cursors = {}


def _cursor(op):
    """A cursor the list made (its first page's next_cursor, of one row), or None when it has one row or none."""
    if op not in _cursors:
        response = requests.get(f"{F['base']}/v1/{F['sid']}{CURSOR_LISTS[op]}?limit=1", headers={"api-key": F["apiKey"]}, timeout=10)
        response.raise_for_status()
        _cursors[op] = response.json().get("next_cursor")
    return _cursors[op]


def _fix_cursor(op, case):
    """An opaque cursor is one the list made: a generated string in its place is given one (or left out)."""
    query = case.query
    if op not in CURSOR_LISTS or not isinstance(query, dict) or not isinstance(query.get("cursor"), str) or not query["cursor"]:
        return
    cursor = _cursor(op)
    if cursor is None:
        del query["cursor"]
    else:
        query["cursor"] = cursor


@schemathesis.hook
def before_call(context, case, kwargs):
    op = _operation_id(case)
    _fix_cursor(op, case)
    body = case.body
    if op in ("assignNumber", "reassignSenderId") and isinstance(body, dict):
        body["sid"] = F["sid"]
    elif op in ("createSmppConnection", "updateSmppConnection") and isinstance(body, dict):
        if "host" in body:
            body["host"] = "127.0.0.1"
        if body.get("gateway_id") is not None:
            body["gateway_id"] = F["gatewayId"]
    elif op == "createCallbackProfile":
        _fix_profile(body)
    elif op == "updateCallbackProfile":
        _reset_profile()
        _fix_profile(body)
    elif op in ("createReceiveConfig", "replaceReceiveConfig"):
        _fix_config(body)
    elif op == "dryRunReceiveConfig" and isinstance(body, dict):
        if "number" in body:
            body["number"] = F["number"]
        _fix_config(body.get("config"))
    elif op == "sendMessage" and isinstance(body, dict) and "sender" in body:
        body["sender"] = _sender(0)
    elif op == "changeScheduledReply" and isinstance(body, dict) and "at" in body:
        body["at"] = _future()
    elif op == "replayDeliveries" and isinstance(body, dict):
        # Only the fixture profile's deliveries: the one replayDelivery replays stays failed.
        body["profile_id"] = F["profileId"]
