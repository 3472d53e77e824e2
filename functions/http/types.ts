import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type ApiEvent = APIGatewayProxyEventV2 & {
  requestContext: APIGatewayProxyEventV2['requestContext'] & {
    authorizer?: { jwt?: { claims?: Record<string, unknown> } };
  };
};
export type ApiResult = APIGatewayProxyStructuredResultV2;

export interface ApiRequest {
  method: string;
  path: string;
  /** The route template that matched, e.g. `/cycles/{dutyId}/{periodKey}`; used in audit entries. */
  route: string;
  params: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when there is none). */
  body: unknown;
  rawBody: string;
  /** The body as sent (a CSV in GB18030, an Excel workbook). */
  rawBytes: Buffer;
  event: ApiEvent;
}
