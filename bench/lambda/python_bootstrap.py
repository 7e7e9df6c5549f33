#!/usr/bin/python3
"""A Lambda runtime client in plain Python (http.client), the cost a Python function pays.

The same loop as src/runtime: GET /next -> handler -> POST /response | /error over one
kept-alive connection to $AWS_LAMBDA_RUNTIME_API. The handler answers the API function's
GET /health like the C one. With BENCH_IMPORT=fastapi it first imports FastAPI and builds
an app with the same route, which is what the seed's FastAPI handler pays at init.
"""
import http.client
import json
import os
import sys

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
BASE = "/2018-06-01/runtime"

if os.environ.get("BENCH_IMPORT") == "fastapi":
    import fastapi  # noqa: E402  (the import is the point)

    app = fastapi.FastAPI()

    @app.get("/health")
    async def health():
        return {"status": "ok"}


def handler(event):
    http_ctx = event.get("requestContext", {}).get("http", {})
    path, method = event.get("rawPath"), http_ctx.get("method")
    if path == "/health" and method == "GET":
        return {"statusCode": 200, "headers": {"content-type": "application/json"},
                "body": json.dumps({"status": "ok"}, separators=(",", ":"))}
    if path == "/health":
        code, status = "MethodNotAllowed", 405
    else:
        code, status = "NotFound", 404
    body = {"error": {"code": code, "message": f"No route for {method} {path}"}}
    return {"statusCode": status, "headers": {"content-type": "application/json"},
            "body": json.dumps(body, separators=(",", ":"))}


def main():
    host, port = API.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    failures = 0
    while failures < 3:
        try:
            conn.request("GET", BASE + "/invocation/next")
            res = conn.getresponse()
            body = res.read()
            rid = res.getheader("Lambda-Runtime-Aws-Request-Id")
            if res.status != 200 or not rid:
                failures += 1
                continue
            trace = res.getheader("Lambda-Runtime-Trace-Id")
            if trace:
                os.environ["_X_AMZN_TRACE_ID"] = trace
            try:
                out = json.dumps(handler(json.loads(body))).encode()
                path, ctype, headers = "/response", "application/json", {}
            except Exception as e:  # the handler's failure goes to /error
                out = json.dumps({"errorMessage": str(e), "errorType": type(e).__name__,
                                  "stackTrace": []}).encode()
                path = "/error"
                ctype = "application/vnd.aws.lambda.error+json"
                headers = {"Lambda-Runtime-Function-Error-Type": type(e).__name__}
            headers["Content-Type"] = ctype
            conn.request("POST", f"{BASE}/invocation/{rid}{path}", body=out, headers=headers)
            conn.getresponse().read()
            failures = 0
        except (http.client.HTTPException, OSError):
            failures += 1
            conn.close()
            conn = http.client.HTTPConnection(host, int(port))
    return 1


if __name__ == "__main__":
    sys.exit(main())
