"""The MongoDB side of the snapshot test: a collection of (id, name, n) documents, its
writers, and the server's clock.

usage: mongo_writer.py seed COLLECTION N      N documents, ids 1..N
       mongo_writer.py now                    the server's clock as an oplog time, "<seconds>:0"
       mongo_writer.py write COLLECTION STARTED STOP DONE
                                              rounds of an update, an insert and a delete, until
                                              STOP exists (20 rounds at least, 5000 at most);
                                              touches STARTED after 10 rounds, DONE at the end
       mongo_writer.py drop COLLECTION
MONGODB_URI comes from the environment (stack.env).
"""
import calendar
import hashlib
import os
import random
import sys

import pymongo

db = pymongo.MongoClient(os.environ["MONGODB_URI"]).get_default_database()
cmd = sys.argv[1]
if cmd == "seed":
    coll, n = db[sys.argv[2]], int(sys.argv[3])
    coll.drop()
    coll.insert_many([{"id": i, "name": hashlib.md5(str(i).encode()).hexdigest(), "n": i}
                      for i in range(1, n + 1)])
    coll.create_index("id")  # the writers find documents by id
elif cmd == "now":  # the server's clock, as an oplog time (FerretDB's oplog times are its seconds)
    now = db.client.admin.command("hello")["localTime"]
    print(f"{calendar.timegm(now.utctimetuple())}:0")  # pymongo gives naive UTC
elif cmd == "write":
    coll, started, stop, done = db[sys.argv[2]], sys.argv[3], sys.argv[4], sys.argv[5]
    top = coll.count_documents({})
    for r in range(5000):
        if r >= 20 and os.path.exists(stop):
            break
        coll.update_one({"id": random.randint(1, top)},
                        {"$set": {"name": hashlib.md5(os.urandom(8)).hexdigest()},
                         "$inc": {"n": 1}})
        top += 1
        coll.insert_one({"id": top, "name": "new", "n": 0})
        coll.delete_one({"id": random.randint(1, top - 1)})
        if r == 10:
            open(started, "w").close()
    open(done, "w").close()
elif cmd == "drop":
    db[sys.argv[2]].drop()
