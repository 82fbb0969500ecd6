"""A store API as students write it: Flask + psycopg against PostgreSQL, one connection per
request (or, with POOL=N, a pool of N), JSON errors carrying the driver's text.

Used by scripts/lab-target to check what Surge says about a real server that runs out of
database connections (issue 17's lab). Not part of Surge.
"""
import os
import random

import psycopg
from flask import Flask, jsonify, request

DSN = os.environ.get("LAB_DSN", "host=127.0.0.1 port=55432 dbname=lab user=lab password=lab")
POOL = int(os.environ.get("POOL", "0"))

app = Flask(__name__)
pool = None
if POOL:
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(DSN, min_size=POOL, max_size=POOL, timeout=30)


def connection():
    if pool is not None:
        return pool.connection()
    return psycopg.connect(DSN)


@app.post("/orders")
def orders():
    body = request.get_json(silent=True) or {}
    user_id = body.get("user_id")
    if not isinstance(user_id, int) or user_id <= 0:
        return jsonify(error="invalid request", detail="user_id must be a positive integer"), 400
    items = body.get("items") or []
    try:
        with connection() as conn:
            # A slow query: the connection is held a while, as a real report query would.
            conn.execute("SELECT pg_sleep(0.05)")
            row = conn.execute(
                "INSERT INTO orders (user_id, items) VALUES (%s, %s) RETURNING id",
                (user_id, len(items)),
            ).fetchone()
        return jsonify(id=row[0], items=len(items)), 201
    except psycopg.Error as e:
        return jsonify(error="database error", detail=str(e)), 500


@app.get("/products/<int:pid>")
def product(pid):
    if pid > 50:
        return jsonify(error="not found", detail=f"product {pid} does not exist"), 404
    return jsonify(id=pid, price=round(random.uniform(1, 100), 2))
