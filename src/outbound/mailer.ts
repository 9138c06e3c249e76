import nodemailer from 'nodemailer';
import type { Config } from '../config.js';
import { PermanentSendError, TransientSendError } from './errors.js';

export type Mail = { id: string; to: string[]; subject: string; text: string };

/** Email forwards: nodemailer over SMTP_URL, or none (emails are then kept in the outbox). */
export interface Mailer {
  readonly configured: boolean;
  send(mail: Mail): Promise<{ messageId: string; response: string }>;
  close(): void;
}

export function createMailer(config: Config): Mailer {
  if (!config.smtpUrl) {
    return {
      configured: false,
      send: async () => {
        throw new PermanentSendError('no SMTP_URL configured');
      },
      close: () => {},
    };
  }
  // Bounded well under the send activity's 1-minute timeout (nodemailer's own socket timeout
  // is 10 minutes): an attempt must not outlive the attempt Temporal thinks it is.
  const transport = nodemailer.createTransport({ url: config.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
  return {
    configured: true,
    async send(mail) {
      try {
        const info = await transport.sendMail({
          from: config.mailFrom,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          // A stable Message-ID lets mail systems spot a resend of the same forward.
          messageId: `<${mail.id}@inbound-sms>`,
        });
        return { messageId: info.messageId, response: info.response };
      } catch (e) {
        const err = e as Error & { responseCode?: number };
        // SMTP 5xx replies are permanent; 4xx replies and connection errors are worth a retry.
        if (err.responseCode && err.responseCode >= 500) throw new PermanentSendError(`SMTP ${err.responseCode}: ${err.message}`);
        throw new TransientSendError(`SMTP: ${err.message}`);
      }
    },
    close: () => transport.close(),
  };
}
