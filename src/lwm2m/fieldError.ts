/**
 * Input that cannot be taken, and the member of it at fault: `field` names it as the client wrote it
 * (`val["/3"].instances[0].resources[2].value`, `ep`, `limit`). Pure. Every validator throws this one
 * class (Leshan's posts, LwM2M nodes, operators' requests); the HTTP edge turns it into a 4xx naming the field.
 */
export class FieldError extends Error {
  override name = 'FieldError';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
