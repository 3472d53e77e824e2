import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { buildRouter } from '../functions/http/app.ts';
import type { RouteAuth } from '../functions/http/router.ts';
import { loadCatalog } from '../workflows/catalog/index.ts';

/** The Cognito group whose members are administrators (县安委办); the api function checks this claim. */
export const ADMIN_GROUP = 'safeduty-admins';

/** Routes behind the JWT authorizer: an administrator's token, or a machine client's with its scope. */
const BEHIND_AUTHORIZER: readonly RouteAuth[] = ['admin', 'admin-or-integration'];

const NAG_REASON: Record<Exclude<RouteAuth, 'admin' | 'admin-or-integration'>, string> = {
  link:
    'A unit-link route: responsible units have no accounts; the HMAC-signed, expiring link bound to one unit and ' +
    'one item is the credential, verified by the handler (403 forged or for another unit or item, 410 expired).',
  'admin-or-link':
    'Takes a unit link or an administrator token: the handler verifies the link, or the Cognito JWT against the ' +
    "user pool's keys (signature, issuer, client, expiry) and the admin group claim, and refuses anything else.",
  public: 'Public and read-only: no data, no secrets (liveness check, API description).',
};

export interface ApiRoute {
  method: string;
  path: string;
  auth: RouteAuth;
}

/**
 * Which routes API Gateway must let through without a JWT, read from the router itself: every route whose doc
 * says `link`, `admin-or-link` or `public` (the handler checks those credentials). Everything else is behind
 * the JWT authorizer — including admin routes an open template would shadow (e.g. `GET /cases/reconciliation`
 * under `GET /cases/{id}`), which get an explicit JWT route. A route without a doc counts as admin.
 */
export function apiRoutes(): { open: ApiRoute[]; shadowedAdmin: ApiRoute[] } {
  const routes = buildRouter(loadCatalog()).list();
  const all = routes.map((r) => ({ method: r.method, path: r.template, auth: r.doc?.auth ?? 'admin' }));
  const open = all.filter((r) => !BEHIND_AUTHORIZER.includes(r.auth));
  const pattern = (t: string) => new RegExp(`^${t.replace(/\{\w+\}/g, '[^/]+')}$`);
  const shadowedAdmin = all.filter(
    (r) =>
      BEHIND_AUTHORIZER.includes(r.auth) &&
      open.some((o) => o.method === r.method && o.path !== r.path && pattern(o.path).test(r.path)),
  );
  return { open, shadowedAdmin };
}

/** `<stack>-<account>`, lowercase: unique per account and stack, as a Cognito domain prefix must be. */
function consoleDomainPrefix(stack: Stack): string {
  return `${stack.stackName.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${stack.account}`;
}

export interface SafedutyApiProps {
  /** The api function of the registry (one function, routing inside). */
  handler: LambdaFunction;
  logRetention: logs.RetentionDays;
  /** The county's address for the API (the links in emails), where the console is reached too. */
  publicUrl?: string;
  /** The Cognito domain prefix of the console's sign-in pages (globally unique); default from stack and account. */
  consoleDomainPrefix?: string;
  /** Steady-state requests per second and burst for the whole stage. */
  throttle?: { rateLimit: number; burstLimit: number };
}

/**
 * The HTTP API: API Gateway (HTTP API, payload 2.0) in front of the api function, a Cognito user pool for
 * administrators (no self sign-up, MFA required, strong passwords, threat protection) with the admins group and
 * an app client, and a JWT authorizer on every route but the open ones. Access logs are JSON, without paths
 * (a unit link's token is part of its path; the route key is logged instead).
 */
export class SafedutyApi extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  /** The console's app client: the managed login pages (authorization code with PKCE), no secret. */
  readonly consoleClient: cognito.UserPoolClient;
  /** The issuing bureau's system: client credentials with the warnings scope (POST /warnings). */
  readonly warningIssuerClient: cognito.UserPoolClient;
  readonly consoleDomain: cognito.UserPoolDomain;
  readonly adminGroup: cognito.UserPoolGroup;
  readonly openRoutes: apigwv2.HttpRoute[] = [];

  constructor(scope: Construct, id: string, props: SafedutyApiProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.userPool = new cognito.UserPool(this, 'AdminUserPool', {
      userPoolName: `${stack.stackName}-admins`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // Administrators change rosters and see every unit's record: a password alone is not enough.
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { sms: false, otp: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Plus: threat protection (compromised credentials, adaptive authentication) enforced. A county has a
      // handful of administrators, so the per-user price is negligible.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      userInvitation: {
        emailSubject: 'safeduty 管理员账号',
        emailBody:
          '您的 safeduty 管理员账号已创建。用户名：{username}，临时密码：{####}。首次登录须修改密码并绑定身份验证器（TOTP）。',
      },
      deletionProtection: true,
      // Accounts are people's, not the stack's: keep them if the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.adminGroup = new cognito.UserPoolGroup(this, 'AdminGroup', {
      userPool: this.userPool,
      groupName: ADMIN_GROUP,
      description: 'safeduty administrators (county safety office): manage units, read every record',
    });
    this.userPoolClient = this.userPool.addClient('AdminClient', {
      userPoolClientName: 'safeduty-admin',
      generateSecret: false,
      // Tokens come from the Cognito API (SRP or USER_PASSWORD_AUTH), not from a hosted OAuth flow.
      disableOAuth: true,
      // SRP for interactive tools; USER_PASSWORD_AUTH so `aws cognito-idp initiate-auth` can obtain a token
      // for the CLI (over TLS, with MFA required either way).
      authFlows: { userSrp: true, userPassword: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `${stack.stackName}-api`,
      description: 'safeduty HTTP API (administrators and unit links)',
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const throttle = props.throttle ?? { rateLimit: 50, burstLimit: 100 };
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            user: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    // The console signs administrators in through Cognito's managed login pages (in Chinese, MFA as the pool
    // requires), on a Cognito domain, and comes back to /console with a code it exchanges with PKCE.
    const consoleUrl = `${this.httpApi.apiEndpoint}/console`;
    // The console is reached at the API's own address and at the county's domain mapped to it (the address in
    // emails): sign-in returns to whichever it started from.
    const consoleUrls = [
      consoleUrl,
      ...(props.publicUrl ? [`${props.publicUrl.replace(/\/+$/, '')}/console`] : []),
    ];
    this.consoleDomain = this.userPool.addDomain('ConsoleDomain', {
      cognitoDomain: { domainPrefix: props.consoleDomainPrefix ?? consoleDomainPrefix(stack) },
      managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });
    this.consoleClient = this.userPool.addClient('ConsoleClient', {
      userPoolClientName: 'safeduty-console',
      generateSecret: false,
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: consoleUrls,
        logoutUrls: consoleUrls,
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
    // Managed login needs a style for the client; Cognito's own is enough.
    new cognito.CfnManagedLoginBranding(this, 'ConsoleLoginBranding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.consoleClient.userPoolClientId,
      useCognitoProvidedValues: true,
    });

    // A system that issues warnings (the water or weather bureau's) calls the API as itself: client credentials for
    // one scope, so it can issue and lift warnings and do nothing else.
    const warningsScope = new cognito.ResourceServerScope({
      scopeName: 'warnings',
      scopeDescription: 'issue and lift warnings (预警叫应)',
    });
    const resourceServer = this.userPool.addResourceServer('ApiResourceServer', {
      identifier: 'safeduty',
      scopes: [warningsScope],
    });
    this.warningIssuerClient = this.userPool.addClient('WarningIssuerClient', {
      userPoolClientName: 'safeduty-warning-issuer',
      generateSecret: true,
      oAuth: {
        flows: { clientCredentials: true },
        scopes: [cognito.OAuthScope.resourceServer(resourceServer, warningsScope)],
      },
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
    });

    const integration = new HttpLambdaIntegration('ApiIntegration', props.handler, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    });
    const authorizer = new HttpUserPoolAuthorizer('AdminAuthorizer', this.userPool, {
      userPoolClients: [this.userPoolClient, this.consoleClient, this.warningIssuerClient],
    });
    this.httpApi.addRoutes({ path: '/{proxy+}', methods: [apigwv2.HttpMethod.ANY], integration, authorizer });
    const { open, shadowedAdmin } = apiRoutes();
    for (const route of shadowedAdmin) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method as apigwv2.HttpMethod],
        integration,
        authorizer,
      });
    }
    for (const route of open) {
      const [r] = this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method as apigwv2.HttpMethod],
        integration,
      });
      if (!r) continue;
      this.openRoutes.push(r);
      Validations.of(r).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: NAG_REASON[route.auth as keyof typeof NAG_REASON],
      });
    }

    // The function verifies the admin group claim, and on the open submission route the JWT itself.
    props.handler.addEnvironment('ADMIN_GROUP', ADMIN_GROUP);
    props.handler.addEnvironment('USER_POOL_ID', this.userPool.userPoolId);
    props.handler.addEnvironment(
      'USER_POOL_CLIENT_ID',
      `${this.userPoolClient.userPoolClientId},${this.consoleClient.userPoolClientId},${this.warningIssuerClient.userPoolClientId}`,
    );
    props.handler.addEnvironment(
      'CONSOLE_COGNITO_DOMAIN',
      `${this.consoleDomain.domainName}.auth.${stack.region}.amazoncognito.com`,
    );
    props.handler.addEnvironment('CONSOLE_CLIENT_ID', this.consoleClient.userPoolClientId);
    new CfnOutput(stack, 'ConsoleUrl', {
      value: consoleUrl,
      description: "The administrators' console: sign in with an account of the admins group",
    });

    new CfnOutput(stack, 'ApiUrl', { value: this.httpApi.apiEndpoint, description: 'the HTTP API' });
    new CfnOutput(stack, 'AdminUserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(stack, 'AdminUserPoolClientId', { value: this.userPoolClient.userPoolClientId });
    new CfnOutput(stack, 'WarningIssuerClientId', {
      value: this.warningIssuerClient.userPoolClientId,
      description:
        "The issuing bureau system's client (client credentials, scope safeduty/warnings); its secret: aws cognito-idp describe-user-pool-client",
    });
    new CfnOutput(stack, 'TokenUrl', {
      value: `https://${this.consoleDomain.domainName}.auth.${stack.region}.amazoncognito.com/oauth2/token`,
      description: 'Where a machine client obtains its access token',
    });
  }
}
