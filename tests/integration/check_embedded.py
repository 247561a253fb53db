"""Independent check that each DynamoDB item's embedded child rows are of the same snapshot as
the item's own row: scans the table through boto3 and compares, item by item, the item's
VALUE attribute with that of every map in its LIST attribute. The test's writers give a
parent row and all its children one new value in each transaction, so in any one snapshot
they are equal. Prints OK with the counts, or how many items differ and a few of them;
exit 1 on any (or when no item embeds a child, which would prove nothing).

usage: check_embedded.py ENDPOINT DYNAMODB_TABLE LIST_ATTRIBUTE VALUE_ATTRIBUTE
"""
import sys

import boto3

endpoint, table, list_attr, value_attr = sys.argv[1:5]
ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")

items, children, differ = 0, 0, []
scan = {}
while True:
    page = ddb.scan(TableName=table, **scan)
    for it in page["Items"]:
        items += 1
        want = it[value_attr]["N"]
        kids = it.get(list_attr, {}).get("L", [])
        children += len(kids)
        got = sorted({k["M"][value_attr]["N"] for k in kids if k["M"][value_attr]["N"] != want})
        if got:
            differ.append(f"item {it['id']['N']}: {value_attr} {want}, its children's {got}")
    if "LastEvaluatedKey" not in page:
        break
    scan = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

if differ or children == 0:
    print(f"{len(differ)} of {items} items embed children of another snapshot "
          f"({children} children)")
    print("\n".join(sorted(differ)[:10]))
    sys.exit(1)
print(f"OK {items} items, {children} children")
