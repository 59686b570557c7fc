"""Seed 001's DTK listings, verbatim, shared by the box-table and listing golden tests."""

# ruff: noqa: E501  (the seed's lines are 131 characters wide and stay verbatim)

LIST_ASSEMBLIES = """\
+------------+---------------+-------+---------------+
| ID         | ASSEMBLY NAME | NODES | DESCRIPTION   |
+------------+---------------+-------+---------------+
| 2147491121 | cluster       | 3     | spark cluster |
+------------+---------------+-------+---------------+
1 row in set
"""
LS_DEPLOYING = """\
+------------+----------------+---------+-----------+-------------------------------+---------------+---------+-------------------+
| ID         | ASSEMBLY NAME  | STATUS  | LAST RUN  | ASSEMBLY TEMPLATE             | TARGET        | # NODES | CREATED AT        |
+------------+----------------+---------+-----------+-------------------------------+---------------+---------+-------------------+
| 2147491171 | spark-cluster1 | running | executing | bigtop:spark/assembly/cluster | vpc-us-east-1 | 3       | 02:03:51 26/11/15 |
+------------+----------------+---------+-----------+-------------------------------+---------------+---------+-------------------+
1 row in set
"""
LS_DEPLOYED = """\
+------------+----------------+---------+-----------+-------------------------------+---------------+---------+-------------------+
| ID         | ASSEMBLY NAME  | STATUS  | LAST RUN  | ASSEMBLY TEMPLATE             | TARGET        | # NODES | CREATED AT        |
+------------+----------------+---------+-----------+-------------------------------+---------------+---------+-------------------+
| 2147493837 | spark-cluster1 | running | succeeded | bigtop:spark/assembly/cluster | vpc-us-east-1 | 3       | 17:16:53 26/11/15 |
+------------+----------------+---------+-----------+-------------------------------+---------------+---------+-------------------+
1 row in set
"""
# The seed's excerpt stops at the closing border; DTK always printed the footer after it.
LS_WITH_STAGED = """\
+------------+----------------+---------+-----------+-------------------------------+---------------+---------+-------------------+
| ID         | ASSEMBLY NAME  | STATUS  | LAST RUN  | ASSEMBLY TEMPLATE             | TARGET        | # NODES | CREATED AT        |
+------------+----------------+---------+-----------+-------------------------------+---------------+---------+-------------------+
| 2147493837 | spark-cluster1 | running | succeeded | bigtop:spark/assembly/cluster | vpc-us-east-1 | 3       | 17:16:53 26/11/15 |
| 2147494146 | spark-cluster2 | pending |           | bigtop:spark/assembly/cluster | vpc-us-east-1 | 3       | 18:03:51 26/11/15 |
+------------+----------------+---------+-----------+-------------------------------+---------------+---------+-------------------+
"""
