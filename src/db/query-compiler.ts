import {
  type BinaryOperationNode,
  OperatorNode,
  PostgresDialect,
  PostgresQueryCompiler,
  PrimitiveValueListNode,
  type QueryCompiler,
  ValueListNode,
} from 'kysely';

/**
 * The PostgreSQL compiler, but an empty list after `IN` or `NOT IN` is not a syntax error:
 * `x IN ()` compiles to `false` (nothing is in an empty list) and `x NOT IN ()` to `true`, as
 * Knex, Prisma and SQLAlchemy do. So a query given an empty list (a concern report with
 * `"stepIds": []` was a 500) means what it says at every call site at once. Code where an empty
 * unit list means "no limit" (a key without units sees the whole municipality) says so
 * explicitly, as before. Done while compiling, so queries without an empty list cost nothing
 * extra (Kysely's HandleEmptyInListsPlugin rebuilds every query's tree: ~15 µs a query).
 */
export class LinealQueryCompiler extends PostgresQueryCompiler {
  protected override visitBinaryOperation(node: BinaryOperationNode): void {
    const operator = OperatorNode.is(node.operator) ? node.operator.operator : undefined;
    const list = node.rightOperand;
    if (
      (operator === 'in' || operator === 'not in') &&
      (PrimitiveValueListNode.is(list) || ValueListNode.is(list)) &&
      list.values.length === 0
    ) {
      this.append(operator === 'in' ? 'false' : 'true');
      return;
    }
    super.visitBinaryOperation(node);
  }
}

/** Kysely's PostgreSQL dialect with the compiler above. */
export class LinealPostgresDialect extends PostgresDialect {
  override createQueryCompiler(): QueryCompiler {
    return new LinealQueryCompiler();
  }
}
