import { ConfigurableModuleBuilder, type InjectionToken } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JOBS_DATA_SOURCE, JOBS_MODULE_OPTIONS } from './jobs.constants.js';
import { InvalidJobsOptionError } from './errors/invalid-options.error.js';
import type { JobsModuleOptions } from './jobs-module-options.interface.js';

/** Options of the module definition itself (not passed to the options factory). */
export interface JobsModuleExtras {
  /** Register JobsModule globally, so JobsService can be injected without importing it. Default false. */
  isGlobal?: boolean;
  /**
   * DI token of the DataSource to use when `options.dataSource` is not given. Default: the
   * `DataSource` class, i.e. @nestjs/typeorm's default DataSource. For a named one pass
   * `getDataSourceToken('name')` from @nestjs/typeorm.
   */
  dataSourceToken?: InjectionToken;
}

export const { ConfigurableModuleClass, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<JobsModuleOptions>({
    moduleName: 'Jobs',
    optionsInjectionToken: JOBS_MODULE_OPTIONS,
  })
    .setClassMethodName('forRoot')
    .setExtras<JobsModuleExtras>(
      { isGlobal: false, dataSourceToken: DataSource },
      (definition, extras) => ({
        ...definition,
        global: extras.isGlobal,
        providers: [
          ...(definition.providers ?? []),
          {
            // The DataSource is optional here so that an instance given in the options works
            // without any DataSource provider; when the provider exists, Nest resolves (and so
            // initializes) it before this factory runs.
            provide: JOBS_DATA_SOURCE,
            useFactory: (
              options: JobsModuleOptions | undefined,
              injected: DataSource | undefined,
            ) => {
              const dataSource = options?.dataSource ?? injected;
              if (!dataSource) {
                throw new InvalidJobsOptionError(
                  'dataSource',
                  undefined,
                  `no DataSource: pass options.dataSource, or register one under the token ${describeToken(extras.dataSourceToken)} ` +
                    '(e.g. TypeOrmModule.forRoot), or set the dataSourceToken extra',
                );
              }
              return dataSource;
            },
            inject: [
              { token: JOBS_MODULE_OPTIONS, optional: true },
              { token: extras.dataSourceToken ?? DataSource, optional: true },
            ],
          },
        ],
      }),
    )
    .build();

function describeToken(token: InjectionToken | undefined): string {
  if (typeof token === 'function') return token.name;
  return String(token);
}
