"""Runs one aws:executeScript step of the sandbox's SSM Automation engine.

AWS's contract ("aws:executeScript - Run a script", AWS Systems Manager User
Guide): the step's Script defines the function named by Handler; Automation
calls it as handler(events, context) with events = the step's InputPayload, and
the returned value becomes the step's Payload output (outputs select from it
with `$.Payload...`). An exception fails the step.

Input (stdin, JSON): {"script", "handler", "payload", "now"} where "now" is the
sandbox clock in epoch seconds. Inside AWS a script reads AWS's clock; here the
sandbox clock stands in for it, so datetime.now(), datetime.utcnow(),
date.today() and time.time() start at "now" and advance with real time.

Output (stdout, JSON, last line): {"Payload": value} or
{"ErrorType": name, "ErrorMessage": text}.
"""

import datetime as _datetime
import json
import sys
import time as _time
import traceback


def _install_clock(now_epoch):
    offset = now_epoch - _time.time()
    real_time = _time.time
    real_time_ns = _time.time_ns

    def sandbox_time():
        return real_time() + offset

    def sandbox_time_ns():
        return real_time_ns() + int(offset * 1_000_000_000)

    _time.time = sandbox_time
    _time.time_ns = sandbox_time_ns

    real_datetime = _datetime.datetime
    real_date = _datetime.date

    class SandboxDatetime(real_datetime):
        @classmethod
        def now(cls, tz=None):
            return real_datetime.fromtimestamp(sandbox_time(), tz)

        @classmethod
        def utcnow(cls):
            return real_datetime.fromtimestamp(sandbox_time(), _datetime.timezone.utc).replace(tzinfo=None)

        @classmethod
        def today(cls):
            return real_datetime.fromtimestamp(sandbox_time())

    class SandboxDate(real_date):
        @classmethod
        def today(cls):
            return real_date.fromtimestamp(sandbox_time())

    _datetime.datetime = SandboxDatetime
    _datetime.date = SandboxDate


def main():
    request = json.loads(sys.stdin.read())
    _install_clock(float(request["now"]))
    namespace = {"__name__": "__main__"}
    try:
        exec(compile(request["script"], "<aws:executeScript>", "exec"), namespace)
        handler = namespace.get(request["handler"])
        if not callable(handler):
            raise NameError(f"handler {request['handler']!r} is not a function defined by the script")
        result = handler(request["payload"], {})
        out = {"Payload": result}
        text = json.dumps(out)
    except Exception as error:  # noqa: BLE001 - every failure fails the step, with its message
        text = json.dumps(
            {
                "ErrorType": type(error).__name__,
                "ErrorMessage": str(error),
                "StackTrace": traceback.format_exc(limit=5),
            }
        )
    sys.stdout.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
