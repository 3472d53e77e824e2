import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ses from 'aws-cdk-lib/aws-ses';
import type { Construct } from 'constructs';
import type { Settings } from './app.ts';

/**
 * The attachments bucket's name: from the stack, account and region, so the stateless stack can grant on it without
 * a cross-stack export (which would tie the two stacks' updates together) and with a grant a reviewer can read.
 */
export function attachmentsBucketName(statefulStackName: string): string {
  return `${statefulStackName.toLowerCase()}-attachments-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
}

export interface StatefulStackProps extends StackProps {
  settings: Settings;
}

/**
 * What must survive a redeploy: the one table (the record is the truth) and the SES sending identity. Kept
 * apart from the stateless stack so functions and workflows can be replaced, or the stack destroyed and
 * recreated, without touching data.
 */
export class StatefulStack extends Stack {
  readonly table: dynamodb.Table;
  /** The table's GSIs: grants name them instead of a `table/index/*` wildcard. */
  readonly indexNames: readonly string[] = ['GSI1', 'GSI2'];
  readonly emailIdentity: ses.EmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;
  /** Files units attach to their reports (photos, PDF), uploaded by presigned PUT from the report page. */
  readonly attachments: s3.Bucket;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { settings } = props;

    // No tableName: a fixed physical name blocks replacement and a second installation in the same account.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'PK', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'SK', type: dynamodb.AttributeType.STRING },
      // A county's duties make a few thousand writes a day in bursts: on-demand costs nothing when idle.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only idempotency records carry expiresAt (epoch seconds): DynamoDB deletes them for free once expired.
      timeToLiveAttribute: 'expiresAt',
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
    for (const indexName of this.indexNames) {
      this.table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: `${indexName}PK`, type: dynamodb.AttributeType.STRING },
        sortKey: { name: `${indexName}SK`, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // Units' evidence is a record like the table: private, encrypted, versioned (nothing is overwritten unseen),
    // kept if the stack goes, every access logged.
    const accessLogs = new s3.Bucket(this, 'AttachmentsAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(400) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket of the attachments bucket; logging it into itself would loop.',
    });
    this.attachments = new s3.Bucket(this, 'Attachments', {
      bucketName: attachmentsBucketName(this.stackName),
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'attachments/',
      // The report page (at the county's address, where the links in emails point) uploads by PUT; the presigned
      // address is the credential, valid 15 minutes for exactly one file.
      cors: [
        {
          allowedMethods: [s3.HttpMethods.PUT],
          allowedOrigins: [new URL(settings.consoleUrl).origin],
          allowedHeaders: ['content-type'],
          maxAge: 3000,
        },
      ],
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { noncurrentVersionExpiration: Duration.days(365) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      // TLS stays OPTIONAL (the default): some township mail servers still lack STARTTLS, and an undelivered
      // reminder is the worse failure here.
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });

    // A domain identity (Easy DKIM) lets any address of the domain send and signs mail, which mailbox
    // providers want; an address identity needs no DNS access, only a click on the verification mail.
    const identity =
      settings.senderIdentity === 'domain'
        ? ses.Identity.domain(settings.senderDomain)
        : ses.Identity.email(settings.senderAddress);
    this.emailIdentity = new ses.EmailIdentity(this, 'SenderIdentity', {
      identity,
      configurationSet: this.configurationSet,
      ...(settings.senderIdentity === 'domain'
        ? { dkimIdentity: ses.DkimIdentity.easyDkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT) }
        : {}),
    });

    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'AttachmentsBucketName', { value: this.attachments.bucketName });
    new CfnOutput(this, 'SenderIdentityName', { value: this.emailIdentity.emailIdentityName });
    new CfnOutput(this, 'ConfigurationSetName', { value: this.configurationSet.configurationSetName });
    if (settings.senderIdentity === 'domain') {
      // The three CNAME records to publish in the sender domain's DNS before SES will send.
      this.emailIdentity.dkimRecords.forEach((r, i) => {
        new CfnOutput(this, `DkimRecord${i + 1}`, { value: `${r.name} CNAME ${r.value}` });
      });
    }
  }
}
